"""Arith: single-turn arithmetic QA (see README.md)."""

from .environment import ArithEnvironment
from .models import ArithAction, ArithConfig, ArithObservation, ArithState

__all__ = ["ArithAction", "ArithConfig", "ArithEnvironment", "ArithObservation", "ArithState"]
