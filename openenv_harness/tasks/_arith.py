"""Seeded generator of the shipped arithmetic taskset (``tasksets/arith``).

The rows are easy on purpose: the CPU training demo uses a 135M-parameter instruct model, which must get
partial credit from the start for GRPO groups to carry any learning signal. Difficulty levels:

* ``1``: one-digit + one-digit (``7 + 5``), all 81 pairs of 1..9;
* ``2``: two-digit + one-digit (``34 + 8``);
* ``3``: two-digit + two-digit (``34 + 58``).

Every (a, b) pair appears in at most one split, so the ``test`` split is a true held-out set. The generator
uses :class:`random.Random` seeded with an int, whose stream and ``shuffle`` have been stable across CPython
3.x releases, and the frozen parquet copy in the repository is what runs anyway; the generator exists so the
copy can be rebuilt and audited (``python scripts/build_tasksets.py``).
"""

from __future__ import annotations

import random
from typing import Any

ARITH_SEED = 20261122
"""Seed the shipped copy was generated with."""

# difficulty -> (operand range of a, operand range of b, test rows, train rows (None = the rest))
_LEVELS: dict[int, tuple[range, range, int, int | None]] = {
    1: (range(1, 10), range(1, 10), 20, None),
    2: (range(10, 100), range(1, 10), 40, 200),
    3: (range(10, 100), range(10, 100), 40, 200),
}


def _row(split: str, i: int, difficulty: int, a: int, b: int) -> dict[str, Any]:
    question = f"What is {a} + {b}?"
    return {
        "task_id": f"arith/{split}/{i:04d}",
        "question": question,
        "answer": str(a + b),
        "difficulty": difficulty,
        # The reset kwargs the environment shows the agent: never the answer.
        "openenv_reset": {"question": question, "difficulty": difficulty},
    }


def generate_arith(seed: int = ARITH_SEED) -> dict[str, list[dict[str, Any]]]:
    """Generate the arithmetic taskset's rows.

    Args:
        seed: Seed of the generator (the shipped copy uses :data:`ARITH_SEED`).

    Returns:
        ``{"train": rows, "test": rows}``; each row has ``task_id``, ``question``, ``answer`` (a string, hidden
        from the agent), ``difficulty`` (1-3) and ``openenv_reset`` (``{"question", "difficulty"}``). Rows are
        shuffled across difficulties; pairs never repeat within or across splits.
    """
    rng = random.Random(seed)
    picked: dict[str, list[tuple[int, int, int]]] = {"train": [], "test": []}
    for difficulty, (range_a, range_b, n_test, n_train) in sorted(_LEVELS.items()):
        pairs = [(a, b) for a in range_a for b in range_b]
        rng.shuffle(pairs)
        test, rest = pairs[:n_test], pairs[n_test:]
        train = rest if n_train is None else rest[:n_train]
        picked["test"].extend((difficulty, a, b) for a, b in test)
        picked["train"].extend((difficulty, a, b) for a, b in train)
    out: dict[str, list[dict[str, Any]]] = {}
    for split, items in picked.items():
        rng.shuffle(items)
        out[split] = [_row(split, i, d, a, b) for i, (d, a, b) in enumerate(items)]
    return out
