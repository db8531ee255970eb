"""Seeded arithmetic question generator and a safe evaluator of the questions it (and the taskset) asks.

Difficulty levels (the lowest is deliberately easy: a 135M model must get partial credit there):

1. one-digit + one-digit: ``What is 7 + 5?``
2. two-digit plus or minus one-digit (results never negative): ``What is 34 - 8?``
3. two-digit plus or minus two-digit: ``What is 34 + 58?``
4. two-digit times one-digit, or three terms: ``What is 23 * 7?``, ``What is 41 + 17 - 9?``
5. one-step word problems with two-digit numbers: ``Mia has 34 apples and buys 12 more. How many ...``

A seed fully determines the question (``random.Random(seed)``; its stream is stable across CPython 3.x).
"""

from __future__ import annotations

import ast
import operator
import random
import re
from dataclasses import dataclass

MIN_DIFFICULTY = 1
MAX_DIFFICULTY = 5

_NAMES = ("Mia", "Leo", "Ana", "Sam", "Noor", "Ivan", "Zoe", "Kai")
_ITEMS = ("apples", "marbles", "stickers", "coins", "books", "pencils")


@dataclass(frozen=True)
class ArithTask:
    """One generated question.

    Attributes:
        task_id: Stable id (``gen/d<difficulty>/<seed>``).
        question: Text shown to the agent.
        answer: The exact answer (hidden from the agent).
        difficulty: Level 1-5.
    """

    task_id: str
    question: str
    answer: int
    difficulty: int


def _expr_question(expr: str) -> str:
    return f"What is {expr}?"


def generate(seed: int, difficulty: int = 1) -> ArithTask:
    """Generate the question a seed determines at a difficulty.

    Args:
        seed: Any int; equal seeds give equal questions.
        difficulty: 1 (easiest) to 5.

    Raises:
        ValueError: for a difficulty outside 1-5.
    """
    if not MIN_DIFFICULTY <= difficulty <= MAX_DIFFICULTY:
        raise ValueError(f"difficulty must be {MIN_DIFFICULTY}..{MAX_DIFFICULTY}, got {difficulty}")
    rng = random.Random(f"arith:{difficulty}:{seed}")
    if difficulty == 1:
        a, b = rng.randint(1, 9), rng.randint(1, 9)
        expr = f"{a} + {b}"
    elif difficulty == 2:
        a, b = rng.randint(10, 99), rng.randint(1, 9)
        expr = f"{a} {rng.choice('+-')} {b}"
    elif difficulty == 3:
        a, b = sorted((rng.randint(10, 99), rng.randint(10, 99)), reverse=True)
        expr = f"{a} {rng.choice('+-')} {b}"
    elif difficulty == 4:
        if rng.random() < 0.5:
            expr = f"{rng.randint(10, 99)} * {rng.randint(2, 9)}"
        else:
            a, b, c = rng.randint(10, 99), rng.randint(10, 99), rng.randint(1, 9)
            expr = f"{a} + {b} - {c}"
    else:
        name, item = rng.choice(_NAMES), rng.choice(_ITEMS)
        a, b = rng.randint(20, 99), rng.randint(2, 19)
        kind = rng.choice(("more", "away", "times"))
        if kind == "more":
            question = f"{name} has {a} {item} and gets {b} more. How many {item} does {name} have now?"
            answer = a + b
        elif kind == "away":
            question = f"{name} has {a} {item} and gives {b} away. How many {item} does {name} have left?"
            answer = a - b
        else:
            b = b % 8 + 2
            question = f"{name} has {b} bags with {a} {item} in each. How many {item} are there in total?"
            answer = a * b
        return ArithTask(f"gen/d{difficulty}/{seed}", question, answer, difficulty)
    return ArithTask(f"gen/d{difficulty}/{seed}", _expr_question(expr), int(evaluate(expr)), difficulty)


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}
_QUESTION_RE = re.compile(r"^\s*what\s+is\s+(?P<expr>[-+*0-9 ().]+?)\s*\??\s*$", re.IGNORECASE)


def evaluate(expr: str) -> float:
    """Evaluate an expression of numbers, ``+``, ``-``, ``*`` and parentheses (nothing else is accepted).

    Raises:
        ValueError: for anything outside that grammar.
    """

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int | float)
            and not isinstance(node.value, bool)
        ):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        raise ValueError(f"unsupported expression element {type(node).__name__}")

    if len(expr) > 200:
        raise ValueError("expression too long")
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not an arithmetic expression: {expr!r}") from exc
    return walk(tree)


def answer_of(question: str) -> float:
    """Compute the answer of a ``What is <expr>?`` question (the taskset's and difficulties 1-4's form).

    Raises:
        ValueError: when the question is not of that form.
    """
    match = _QUESTION_RE.match(question)
    if match is None:
        raise ValueError(f"cannot compute an answer for {question!r}: expected 'What is <expression>?'")
    return evaluate(match.group("expr"))
