"""Coding: sandboxed multi-turn coding scored by unit tests (see README.md)."""

from .environment import CodingEnvironment
from .models import CodingAction, CodingConfig, CodingObservation, CodingState

__all__ = ["CodingAction", "CodingConfig", "CodingEnvironment", "CodingObservation", "CodingState"]
