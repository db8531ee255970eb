"""Reference policies of the wordle env (``openenv_harness.checks`` interface) and an honest solver.

* ``oracle_action`` knows the secret (from ``hidden``) and guesses it at once: the maximum reward.
* ``solver_action`` plays from observations only: it guesses the first word of the list that is consistent
  with every feedback seen so far (solves most secrets within six turns; a baseline, not an oracle).
* ``null_action`` sends an empty guess every turn (invalid, so every component scores 0).
"""

from __future__ import annotations

from typing import Any

from .game import consistent, pick_secret, word_list


def hidden(seed: int, **task: Any) -> dict[str, Any]:
    """The secret of the episode a seed (or ``index``) selects; it must never appear in observations."""
    return {"secret": pick_secret(seed, task.get("index"))}


def oracle_action(observation: dict[str, Any], hidden: dict[str, Any]) -> dict[str, Any]:
    """Guess the secret."""
    return {"guess": hidden["secret"]}


def solver_action(observation: dict[str, Any]) -> dict[str, Any]:
    """Guess the first listed word consistent with the board (``"guess feedback"`` lines)."""
    history = []
    for line in observation.get("board", []):
        guess, _, fb = line.partition(" ")
        if fb and fb != "invalid":
            history.append((guess, fb))
    for word in word_list():
        if consistent(word, history):
            return {"guess": word}
    return {"guess": word_list()[0]}  # unreachable when the secret is in the list


def null_action(observation: dict[str, Any]) -> dict[str, Any]:
    """Do nothing: an empty (invalid) guess."""
    return {"guess": ""}
