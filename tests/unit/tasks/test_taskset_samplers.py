"""Samplers: coverage, determinism, resumability (state_dict round trips), curriculum preference."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from openenv_harness.tasks import (
    CurriculumSampler,
    Draw,
    SequentialSampler,
    UniformSampler,
    make_sampler,
)


def test_sequential_every_row_once_in_order() -> None:
    s = SequentialSampler(5, "test", seed=100)
    draws = list(s)
    assert [d.index for d in draws] == [0, 1, 2, 3, 4]
    assert [d.seed for d in draws] == [100, 101, 102, 103, 104]
    assert draws[0].reset_kwargs() == {"seed": 100, "split": "test", "index": 0}
    assert list(SequentialSampler(5, "test", limit=2)) == [Draw("test", 0, 0), Draw("test", 1, 1)]


def test_uniform_without_replacement_per_epoch_and_seeded() -> None:
    s = UniformSampler(7, "train", seed=3)
    epoch0, epoch1 = s.take(7), s.take(7)
    assert sorted(d.index for d in epoch0) == list(range(7)) == sorted(d.index for d in epoch1)
    assert {d.epoch for d in epoch1} == {1}
    assert [d.index for d in epoch0] != [d.index for d in epoch1]  # reshuffled each epoch
    again = UniformSampler(7, "train", seed=3).take(14)
    assert again == epoch0 + epoch1
    assert UniformSampler(7, "train", seed=4).take(7) != epoch0
    assert len({d.seed for d in epoch0 + epoch1}) == 14  # distinct episode seeds


@pytest.mark.parametrize("kind", ["sequential", "uniform", "curriculum"])
def test_state_dict_resumes_exactly(kind: str) -> None:
    a = make_sampler(kind, 9, "train", seed=5)
    first = a.take(4)
    if isinstance(a, CurriculumSampler):
        a.update(first[0].index, [0.0, 1.0])
    state = json.loads(json.dumps(a.state_dict()))  # must be plain JSON
    rest = a.take(5)
    b = make_sampler(kind, 9, "train", seed=5)
    b.load_state_dict(state)
    assert b.take(5) == rest
    assert first  # sanity: the sampler produced draws


def test_state_from_another_sampler_is_refused() -> None:
    state = UniformSampler(9, "train", seed=5).state_dict()
    with pytest.raises(ValueError, match="sampler state was saved for"):
        UniformSampler(10, "train", seed=5).load_state_dict(state)


def test_curriculum_prefers_rows_with_signal() -> None:
    s = CurriculumSampler(4, "train", seed=0)
    for _ in range(10):
        assert s.update(0, [0.0, 1.0, 1.0, 0.0]) is True  # mixed rewards: learning signal
        assert s.update(1, [1.0, 1.0, 1.0, 1.0]) is False  # always solved: no signal
        assert s.update(2, [0.0, 0.0, 0.0, 0.0]) is False  # never solved: no signal
    assert s.weight(0) > s.weight(3) > s.weight(1) == s.weight(2) >= s.min_weight
    counts = Counter(d.index for d in s.take(2000))
    assert counts[0] > counts[3] > counts[1]
    assert counts[1] > 0 and counts[2] > 0  # floored, never excluded
    c = s.counters()
    assert c["groups"] == 30 and c["signal_groups"] == 10
    assert c["zero_signal_fraction"] == pytest.approx(2 / 3)
    assert (c["rows_seen"], c["rows_with_signal"], c["draws"]) == (3, 1, 2000)


def test_bad_arguments() -> None:
    with pytest.raises(
        ValueError, match="unknown sampler 'random'; choose one of sequential, uniform, curriculum"
    ):
        make_sampler("random", 3, "train")
    with pytest.raises(ValueError, match="has no rows"):
        UniformSampler(0, "train")
    with pytest.raises(ValueError, match="at least one reward"):
        CurriculumSampler(2, "train").update(0, [])
