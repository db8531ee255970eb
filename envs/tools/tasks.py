"""Questions about the shop database, each with a reference SQL query that computes its answer.

A seed picks the template and its parameters; the answer is computed from the episode's own database with
the reference query, so it is right by construction. Templates whose answer would be ambiguous (ties) are
skipped for that seed. The reference query is ground truth's recipe: it stays server-side (the oracle policy
rebuilds it from the template name and parameters, which the observation carries).
"""

from __future__ import annotations

import random
import re
import sqlite3
from dataclasses import dataclass
from typing import Any

TEMPLATES: dict[str, tuple[str, str]] = {
    "units_of_product": (
        "How many units of the product '{product}' were ordered in total?",
        "SELECT COALESCE(SUM(o.quantity), 0) FROM orders o JOIN products p ON p.id = o.product_id "
        "WHERE p.name = :product",
    ),
    "revenue_by_category": (
        "What is the total revenue (quantity times price, summed over all orders) of products in the category "
        "'{category}'? Round to 2 decimals.",
        "SELECT ROUND(COALESCE(SUM(o.quantity * p.price), 0), 2) FROM orders o "
        "JOIN products p ON p.id = o.product_id WHERE p.category = :category",
    ),
    "top_customer": (
        "Which customer ordered the most units in total? Answer with the customer's name.",
        "SELECT c.name FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY c.id "
        "ORDER BY SUM(o.quantity) DESC LIMIT 2",
    ),
    "avg_quantity_city": (
        "What is the average quantity per order over orders placed by customers from {city}? Round to 2 "
        "decimals.",
        "SELECT ROUND(AVG(o.quantity), 2) FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE c.city = :city",
    ),
    "price_ratio": (
        "How many times as expensive as '{cheap}' is '{dear}'? Divide the two prices and round to 2 decimals.",
        "SELECT ROUND((SELECT price FROM products WHERE name = :dear) / "
        "(SELECT price FROM products WHERE name = :cheap), 2)",
    ),
}


@dataclass(frozen=True)
class Task:
    """One question of an episode.

    Attributes:
        template: Template name (a key of :data:`TEMPLATES`).
        params: The template's parameters (visible: they are part of the question).
        question: The question text shown to the agent.
        answer: The reference answer (server-side only).
    """

    template: str
    params: dict[str, Any]
    question: str
    answer: str | float


def _params(template: str, conn: sqlite3.Connection, rng: random.Random) -> dict[str, Any]:
    products = [r[0] for r in conn.execute("SELECT name FROM products ORDER BY id")]
    if template == "units_of_product":
        return {"product": rng.choice(products)}
    if template == "revenue_by_category":
        cats = [r[0] for r in conn.execute("SELECT DISTINCT category FROM products ORDER BY category")]
        return {"category": rng.choice(cats)}
    if template == "avg_quantity_city":
        cities = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT c.city FROM customers c JOIN orders o "
                "ON o.customer_id = c.id ORDER BY c.city"
            )
        ]
        return {"city": rng.choice(cities)}
    if template == "price_ratio":
        a, b = rng.sample(products, 2)
        pa, pb = (
            conn.execute("SELECT price FROM products WHERE name = ?", (n,)).fetchone()[0] for n in (a, b)
        )
        return {"cheap": a, "dear": b} if pa <= pb else {"cheap": b, "dear": a}
    return {}


def reference_sql(template: str) -> str:
    """The query that answers a template (used by the oracle and to build answers)."""
    return TEMPLATES[template][1]


def make_task(conn: sqlite3.Connection, seed: int | None, template: str | None = None) -> Task:
    """Pick a question for this episode's database.

    Args:
        conn: The episode's database (before it is made read-only is fine, reads only).
        seed: Picks the template (unless given) and its parameters.
        template: Force one template.

    Raises:
        ValueError: for an unknown template name.
    """
    if template is not None and template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}; choose one of {', '.join(TEMPLATES)}")
    rng = random.Random(seed)
    names = [template] if template else rng.sample(list(TEMPLATES), len(TEMPLATES))
    for name in names:
        params = _params(name, conn, rng)
        rows = conn.execute(reference_sql(name), params).fetchall()
        if name == "top_customer":
            totals = conn.execute(
                "SELECT SUM(quantity) AS t FROM orders GROUP BY customer_id ORDER BY t DESC LIMIT 2"
            ).fetchall()
            if len(totals) > 1 and totals[0][0] == totals[1][0]:
                continue  # a tie has no single right answer
        answer = rows[0][0]
        question = TEMPLATES[name][0].format(**params)
        return Task(name, params, question, answer)
    # Every template tied (only possible when forcing top_customer): fall back to a well-defined one.
    return make_task(conn, seed, "units_of_product")


_NUMBER_RE = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?")


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", text.casefold()).strip()


def check_answer(submitted: str, expected: str | float) -> bool:
    """Whether a free-text answer matches the reference.

    Numbers: the last number in the text, within 0.01 (answers are asked rounded to 2 decimals). Names: equal
    after case-folding and dropping punctuation (a list of several names does not count).
    """
    if isinstance(expected, int | float):
        found = _NUMBER_RE.findall(submitted)
        if not found:
            return False
        return abs(float(found[-1].replace(",", "")) - float(expected)) <= 0.01 + 1e-9 * abs(float(expected))
    got, want = _norm(submitted), _norm(str(expected))
    return got == want
