"""When train mode runs the in-training suite, and what counts as a configured suite."""

from omegaconf import OmegaConf

from openenv_harness.harness.suite_eval import due_during_training, suite_configured


def _cfg(every: int, max_steps: int = 10, suite: dict | None = None):
    return OmegaConf.create(
        {"eval": {"every_n_steps": every, "suite": suite or {}}, "learner": {"max_steps": max_steps}}
    )


def test_due_every_n_steps_strictly_inside_training():
    # Step 0 and the last step are run by the caller (before / after training), never twice.
    assert [s for s in range(11) if due_during_training(_cfg(3), s)] == [3, 6, 9]
    assert [s for s in range(11) if due_during_training(_cfg(5), s)] == [5]
    assert not any(due_during_training(_cfg(0), s) for s in range(11))


def test_suite_configured_needs_evals():
    assert not suite_configured(_cfg(1))
    assert not suite_configured(_cfg(1, suite={"name": "empty", "evals": []}))
    assert suite_configured(_cfg(1, suite={"name": "s", "evals": [{"name": "a", "env": "arith"}]}))
