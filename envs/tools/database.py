"""The per-episode shop database (sqlite3, in memory) and its read-only query tool.

A seed determines every row, so the same seed gives the same database and the same question. The agent may
only read: an authorizer admits nothing but SELECT/READ/FUNCTION operations (so INSERT, UPDATE, DELETE,
CREATE, ATTACH and PRAGMA are refused with a clear error), ``PRAGMA query_only`` is set as a second guard, a
progress handler aborts runaway queries, and results are cut to ``max_rows`` rows.
"""

from __future__ import annotations

import random
import sqlite3
from typing import Any

SCHEMA = """
CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, category TEXT NOT NULL,
                       price REAL NOT NULL);
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, city TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),
                     product_id INTEGER NOT NULL REFERENCES products(id), quantity INTEGER NOT NULL,
                     day INTEGER NOT NULL);
"""
"""The schema, also shown to the agent in the first observation."""

_PRODUCTS = {
    "books": ["Atlas of Rivers", "Night Garden Novel", "Cookbook Basics", "Poems of the Sea"],
    "garden": ["Trowel", "Watering Can", "Seed Box", "Pruning Shears"],
    "kitchen": ["Chef Knife", "Cast Iron Pan", "Tea Kettle", "Salad Bowl"],
    "toys": ["Wooden Train", "Kite", "Puzzle Cube", "Rubber Duck"],
}
_CUSTOMERS = ["Ada", "Bruno", "Chen", "Dalia", "Emeka", "Farah", "Goran", "Hana", "Ivo", "Jun"]
_CITIES = ["Lyon", "Porto", "Graz", "Turku"]

_ALLOWED_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION}
_MAX_VM_STEPS = 50_000  # in units of 1000 VM instructions: well under a second


class QueryError(ValueError):
    """A query was refused (not read-only) or failed; the message comes from sqlite where possible."""


def build_database(seed: int | None) -> sqlite3.Connection:
    """Create the episode's in-memory database, filled deterministically from ``seed``.

    The connection may be used from several threads (the env serialises access with its own lock).
    """
    rng = random.Random(seed)
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.executescript(SCHEMA)
    categories = sorted(_PRODUCTS)
    product_rows = []
    pid = 0
    for category in categories:
        for name in rng.sample(_PRODUCTS[category], 3):
            pid += 1
            product_rows.append((pid, name, category, round(rng.uniform(2, 120), 2)))
    conn.executemany("INSERT INTO products VALUES (?, ?, ?, ?)", product_rows)
    customers = rng.sample(_CUSTOMERS, 7)
    conn.executemany(
        "INSERT INTO customers VALUES (?, ?, ?)",
        [(i + 1, name, rng.choice(_CITIES)) for i, name in enumerate(customers)],
    )
    orders = [
        (
            i + 1,
            rng.randint(1, len(customers)),
            rng.randint(1, len(product_rows)),
            rng.randint(1, 9),
            rng.randint(1, 30),
        )
        for i in range(30)
    ]
    conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", orders)
    conn.commit()
    return conn


def lock_read_only(conn: sqlite3.Connection) -> None:
    """Make ``conn`` refuse anything but reads (call after the data is written)."""
    conn.execute("PRAGMA query_only = ON")

    def authorizer(action: int, *_: Any) -> int:
        return sqlite3.SQLITE_OK if action in _ALLOWED_ACTIONS else sqlite3.SQLITE_DENY

    conn.set_authorizer(authorizer)


def run_query(conn: sqlite3.Connection, query: str, max_rows: int = 50) -> dict[str, Any]:
    """Run one read-only SQL statement.

    Args:
        conn: A connection prepared with :func:`lock_read_only`.
        query: One SELECT statement.
        max_rows: Rows returned at most (``truncated`` says when more matched).

    Returns:
        ``{"columns": [...], "rows": [[...], ...], "truncated": bool}``.

    Raises:
        QueryError: for writes, multiple statements, syntax errors or runaway queries.
    """
    steps = 0

    def progress() -> int:
        nonlocal steps
        steps += 1
        return 1 if steps > _MAX_VM_STEPS else 0  # non-zero aborts the query

    conn.set_progress_handler(progress, 1000)
    try:
        cur = conn.execute(query)
        rows = cur.fetchmany(max_rows + 1)
    except sqlite3.Warning as exc:  # "You can only execute one statement at a time."
        raise QueryError(str(exc)) from None
    except sqlite3.DatabaseError as exc:
        msg = str(exc)
        if "not authorized" in msg or "readonly" in msg or "query_only" in msg:
            msg = f"{msg}: the database is read-only, only SELECT queries are allowed"
        elif "interrupted" in msg:
            msg = "query took too long and was stopped"
        raise QueryError(msg) from None
    finally:
        conn.set_progress_handler(None, 0)
    columns = [d[0] for d in cur.description or []]
    return {"columns": columns, "rows": [list(r) for r in rows[:max_rows]], "truncated": len(rows) > max_rows}
