"""Wordle env: a multi-turn word game scored by a trajectory rubric."""

from .environment import WordleAction, WordleConfig, WordleEnvironment, WordleObservation, WordleState

__all__ = ["WordleAction", "WordleConfig", "WordleEnvironment", "WordleObservation", "WordleState"]
