"""A safe arithmetic calculator: numbers, + - * / // % **, parentheses and a few functions.

Expressions are parsed with :mod:`ast` and evaluated node by node; names, attributes, calls to anything but
the listed functions, and huge powers are refused, so an agent cannot run code through it.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "sqrt": math.sqrt,
    "log": math.log,
    "exp": math.exp,
}
MAX_EXPRESSION_CHARS = 500
_MAX_EXPONENT = 1000
_MAX_MAGNITUDE = 1e300


class CalculatorError(ValueError):
    """The expression is not a supported arithmetic expression, or cannot be evaluated."""


def _eval(node: ast.AST) -> float | int:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > _MAX_EXPONENT:
            raise CalculatorError(f"exponent {right} is too large (limit {_MAX_EXPONENT})")
        value = _BINOPS[type(node.op)](left, right)
        if isinstance(value, complex):
            raise CalculatorError("result is a complex number")
        if abs(value) > _MAX_MAGNITUDE:
            raise CalculatorError("result is too large")
        return value  # type: ignore[no-any-return]
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))  # type: ignore[no-any-return]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS:
        if node.keywords:
            raise CalculatorError("keyword arguments are not supported")
        return _FUNCS[node.func.id](*(_eval(a) for a in node.args))  # type: ignore[no-any-return]
    if isinstance(node, ast.Call | ast.Name):
        raise CalculatorError(f"unsupported name; available functions: {', '.join(_FUNCS)}")
    raise CalculatorError(f"unsupported syntax: {type(node).__name__}")


def calculate(expression: str) -> float | int:
    """Evaluate an arithmetic expression.

    Args:
        expression: e.g. ``"(3 + 4) * 2.5"`` or ``"round(10 / 3, 2)"``.

    Returns:
        The numeric result.

    Raises:
        CalculatorError: for unsupported syntax, division by zero, or out-of-range results.
    """
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise CalculatorError(f"expression longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise CalculatorError(f"not an arithmetic expression: {exc.msg}") from None
    try:
        return _eval(tree)
    except ZeroDivisionError:
        raise CalculatorError("division by zero") from None
    except (OverflowError, TypeError, ValueError) as exc:
        if isinstance(exc, CalculatorError):
            raise
        raise CalculatorError(str(exc)) from None
