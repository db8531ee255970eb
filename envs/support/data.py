"""The support desk's database (customers and orders), the user's goal, and the agent's tools.

A seed builds the database and picks one goal: a customer wants to **cancel** a processing order, **change the
shipping address** of a processing order, or **return** a delivered order. The expected final database is the
initial one with exactly that change applied; the reward compares the final database with it. Each goal also
names one fact the agent must tell the user (the refund amount, the order id, the return label code).
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from typing import Any

from openenv_harness.mcp import ToolRegistry

_NAMES = [
    "Ada Lovelace",
    "Bruno Diaz",
    "Chen Wei",
    "Dalia Haddad",
    "Emeka Obi",
    "Farah Khan",
    "Goran Ilic",
    "Hana Sato",
    "Ivo Petrov",
    "Jun Park",
]
_ITEMS = [
    ("blue kettle", 34.5),
    ("desk lamp", 22.0),
    ("yoga mat", 18.75),
    ("coffee grinder", 59.9),
    ("rain jacket", 89.0),
    ("chess set", 41.25),
    ("water bottle", 12.4),
    ("backpack", 64.0),
    ("wool scarf", 27.3),
    ("phone stand", 9.99),
    ("cast iron pan", 45.0),
    ("bike light", 16.8),
]
_STREETS = ["Elm Street", "Harbor Road", "Mill Lane", "Oak Avenue", "Station Square", "Lake Drive"]
_CITIES = ["Lyon", "Porto", "Graz", "Turku", "Ghent"]
STATUSES = ("processing", "shipped", "delivered")
GOAL_KINDS = ("cancel", "change_address", "return")

POLICY = (
    "You are a customer-support agent for an online shop. Policies: identify the customer with find_customer "
    "(by email) before changing any of their orders; an order can be cancelled or get a new shipping address "
    "only while its status is 'processing'; a return can be requested only for a 'delivered' order. Tell the "
    "customer the outcome: the refund amount of a cancellation, the return label code of a return, the order "
    'id of an address change. Talk to the customer with {"message": ...}; use tools with '
    '{"tool": name, "args": {...}}.'
)


def _address(rng: random.Random) -> str:
    return f"{rng.randint(1, 99)} {rng.choice(_STREETS)}, {rng.choice(_CITIES)}"


@dataclass(frozen=True)
class Goal:
    """What the simulated user wants (server-side; the user reveals details when asked).

    Attributes:
        kind: ``cancel`` | ``change_address`` | ``return``.
        customer_id: The customer.
        name: The customer's name.
        email: The customer's email (what find_customer needs).
        order_id: The order concerned.
        item: Its item (how the user describes it).
        new_address: The new address (``change_address`` only).
        must_say: The fact the agent must tell the user.
    """

    kind: str
    customer_id: str
    name: str
    email: str
    order_id: str
    item: str
    new_address: str = ""
    must_say: str = ""

    def instruction(self) -> str:
        """The goal in words (for an LLM user's system prompt)."""
        if self.kind == "cancel":
            return f"cancel your order of the {self.item} (order {self.order_id}) and learn the refund amount"
        if self.kind == "change_address":
            return (
                f"change the shipping address of your order of the {self.item} (order {self.order_id}) to "
                f"'{self.new_address}'"
            )
        return f"return the {self.item} you received (order {self.order_id}) and get the return label code"


def build(seed: int | None) -> tuple[dict[str, Any], Goal, dict[str, Any]]:
    """The initial database, the goal, and the expected final database for a seed."""
    rng = random.Random(seed)
    names = rng.sample(_NAMES, 5)
    customers = {
        f"C{i + 1:03d}": {"name": n, "email": f"{n.split()[0].lower()}.{rng.randint(10, 99)}@example.com"}
        for i, n in enumerate(names)
    }
    orders: dict[str, Any] = {}
    next_id = rng.randint(1000, 8000)
    for cid in customers:
        for item, price in rng.sample(_ITEMS, 3):
            next_id += rng.randint(1, 40)
            orders[f"O{next_id}"] = {
                "customer_id": cid,
                "item": item,
                "price": price,
                "quantity": rng.randint(1, 3),
                "status": rng.choice(STATUSES),
                "address": _address(rng),
                "return_label": "",
            }
    kind = rng.choice(GOAL_KINDS)
    wanted = "delivered" if kind == "return" else "processing"
    candidates = [oid for oid, o in orders.items() if o["status"] == wanted]
    if not candidates:  # make one: the goal must be feasible
        oid = rng.choice(sorted(orders))
        orders[oid]["status"] = wanted
        candidates = [oid]
    order_id = rng.choice(sorted(candidates))
    order = orders[order_id]
    cust = customers[order["customer_id"]]
    db = {"customers": customers, "orders": orders, "label_counter": rng.randint(100, 999)}
    goal = Goal(
        kind=kind,
        customer_id=order["customer_id"],
        name=cust["name"],
        email=cust["email"],
        order_id=order_id,
        item=order["item"],
    )
    if kind == "change_address":
        new = _address(rng)
        while new == order["address"]:
            new = _address(rng)
        goal = Goal(**{**goal.__dict__, "new_address": new, "must_say": order_id})
    elif kind == "cancel":
        goal = Goal(**{**goal.__dict__, "must_say": f"{order['price'] * order['quantity']:.2f}"})
    else:
        goal = Goal(**{**goal.__dict__, "must_say": f"RL-{order_id}-{db['label_counter']}"})
    expected = copy.deepcopy(db)
    apply_goal(expected, goal)
    return db, goal, expected


def apply_goal(db: dict[str, Any], goal: Goal) -> None:
    """Apply the goal's correct change to ``db`` (what the tools would do)."""
    order = db["orders"][goal.order_id]
    if goal.kind == "cancel":
        order["status"] = "cancelled"
    elif goal.kind == "change_address":
        order["address"] = goal.new_address
    else:
        order["status"] = "return_requested"
        order["return_label"] = f"RL-{goal.order_id}-{db['label_counter']}"


class SupportDesk:
    """One episode's database plus which customers the agent has identified (the tools' target)."""

    def __init__(self, db: dict[str, Any]) -> None:
        self.db = db
        self.verified: set[str] = set()

    def order(self, order_id: str) -> dict[str, Any]:
        """The order, or a clear error."""
        try:
            return self.db["orders"][order_id]  # type: ignore[no-any-return]
        except KeyError:
            raise ValueError(f"no order {order_id!r}") from None

    def mutable_order(self, order_id: str, status: str, what: str) -> dict[str, Any]:
        """An order the policy allows changing: its customer is identified and its status is ``status``."""
        order = self.order(order_id)
        if order["customer_id"] not in self.verified:
            raise ValueError(f"identify the customer with find_customer(email) before you {what}")
        if order["status"] != status:
            raise ValueError(f"cannot {what}: order {order_id} is {order['status']}, not {status}")
        return order


TOOLS = ToolRegistry()
"""The agent's tools (called with ``{"tool": name, "args": {...}}``)."""


@TOOLS.tool(description="Find a customer by email; returns their id and name, and marks them identified.")
def find_customer(desk: SupportDesk, email: str) -> dict[str, Any]:
    """Look a customer up by email."""
    for cid, c in desk.db["customers"].items():
        if c["email"].lower() == email.strip().lower():
            desk.verified.add(cid)
            return {"customer_id": cid, "name": c["name"]}
    raise ValueError(f"no customer with email {email!r}")


@TOOLS.tool(description="List a customer's orders (id, item, status).")
def list_orders(desk: SupportDesk, customer_id: str) -> list[dict[str, Any]]:
    """Orders of a customer."""
    if customer_id not in desk.db["customers"]:
        raise ValueError(f"no customer {customer_id!r}")
    return [
        {"order_id": oid, "item": o["item"], "status": o["status"]}
        for oid, o in desk.db["orders"].items()
        if o["customer_id"] == customer_id
    ]


@TOOLS.tool(description="Get one order's details (item, price, quantity, status, address).")
def get_order(desk: SupportDesk, order_id: str) -> dict[str, Any]:
    """Details of an order."""
    o = desk.order(order_id)
    return {"order_id": order_id, **{k: o[k] for k in ("item", "price", "quantity", "status", "address")}}


@TOOLS.tool(description="Cancel a processing order; returns the refund amount.")
def cancel_order(desk: SupportDesk, order_id: str) -> dict[str, Any]:
    """Cancel an order (processing only)."""
    o = desk.mutable_order(order_id, "processing", "cancel it")
    o["status"] = "cancelled"
    return {"order_id": order_id, "status": "cancelled", "refund": f"{o['price'] * o['quantity']:.2f}"}


@TOOLS.tool(description="Change the shipping address of a processing order.")
def update_address(desk: SupportDesk, order_id: str, address: str) -> dict[str, Any]:
    """Set a new shipping address (processing only)."""
    if not address.strip():
        raise ValueError("address must not be empty")
    o = desk.mutable_order(order_id, "processing", "change its address")
    o["address"] = address.strip()
    return {"order_id": order_id, "address": o["address"]}


@TOOLS.tool(description="Request a return of a delivered order; returns the return label code.")
def request_return(desk: SupportDesk, order_id: str) -> dict[str, Any]:
    """Start a return (delivered only)."""
    o = desk.mutable_order(order_id, "delivered", "return it")
    o["status"] = "return_requested"
    o["return_label"] = f"RL-{order_id}-{desk.db['label_counter']}"
    return {"order_id": order_id, "status": "return_requested", "return_label": o["return_label"]}
