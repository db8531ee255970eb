"""Wordle rules: the word list, seeded secret selection, and per-letter feedback."""

from __future__ import annotations

import functools
import random
from collections import Counter
from importlib import resources

WORD_LENGTH = 5
GREEN, YELLOW, GRAY = "G", "Y", "."
"""Feedback symbols: right letter in the right place, right letter elsewhere, letter not (or no more) present."""


@functools.cache
def word_list() -> tuple[str, ...]:
    """The shipped secret words (sorted, lower case)."""
    text = resources.files(__package__).joinpath("words.txt").read_text(encoding="utf-8")
    return tuple(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


def pick_secret(seed: int | None, index: int | None = None) -> str:
    """The episode's secret: ``words[index]`` if given, else a seeded draw from the list.

    Raises:
        ValueError: if ``index`` is out of range.
    """
    words = word_list()
    if index is not None:
        if not 0 <= index < len(words):
            raise ValueError(f"index must be in [0, {len(words)}), got {index}")
        return words[index]
    return random.Random(seed).choice(words)


def feedback(guess: str, secret: str) -> str:
    """Per-letter feedback, with repeated letters handled as in Wordle.

    Greens are assigned first; then a letter is yellow only while the secret still has unmatched copies of it,
    so ``feedback("speed", "abide")`` marks one ``e`` yellow and the other gray.
    """
    out = [GRAY] * len(secret)
    remaining = Counter(s for g, s in zip(guess, secret, strict=True) if g != s)
    for i, (g, s) in enumerate(zip(guess, secret, strict=True)):
        if g == s:
            out[i] = GREEN
        elif remaining[g] > 0:
            out[i] = YELLOW
            remaining[g] -= 1
    return "".join(out)


def consistent(candidate: str, history: list[tuple[str, str]]) -> bool:
    """Whether ``candidate`` could be the secret given ``(guess, feedback)`` pairs seen so far."""
    return all(feedback(g, candidate) == fb for g, fb in history)
