import math

import pytest

from openenv_harness.harness.schedules import (
    ScheduleError,
    evaluate_targets,
    make_schedule,
    make_schedules,
    nest,
)


def test_constant():
    s = make_schedule({"kind": "constant", "value": 0.3})
    assert [s(t) for t in (0, 5, 100)] == [0.3, 0.3, 0.3]


def test_linear_with_warmup():
    s = make_schedule({"kind": "linear", "start": 0.5, "end": 0.0, "steps": 4, "warmup": 2})
    assert [s(t) for t in range(8)] == [0.5, 0.5, 0.5, 0.375, 0.25, 0.125, 0.0, 0.0]


def test_cosine_midpoint_and_end():
    s = make_schedule({"kind": "cosine", "start": 1.0, "end": 0.0, "steps": 10})
    assert s(0) == 1.0 and math.isclose(s(5), 0.5) and s(10) == 0.0 and s(50) == 0.0
    assert s(2) > 0.5 > s(8)  # cosine: slow at the ends


def test_step_by_size_and_milestones():
    s = make_schedule({"kind": "step", "start": 1.0, "gamma": 0.5, "step_size": 3})
    assert [s(t) for t in (0, 2, 3, 6)] == [1.0, 1.0, 0.5, 0.25]
    m = make_schedule({"kind": "step", "start": 2.0, "gamma": 0.1, "milestones": [1, 4]})
    assert [round(m(t), 6) for t in (0, 1, 3, 4)] == [2.0, 0.2, 0.2, 0.02]


def test_exponential_with_floor():
    s = make_schedule({"kind": "exponential", "start": 1.0, "gamma": 0.5, "end": 0.2})
    assert [s(t) for t in range(4)] == [1.0, 0.5, 0.25, 0.2]


def test_piecewise_interpolates_and_clamps():
    s = make_schedule({"kind": "piecewise", "points": [[0, 0.0], [10, 1.0], [20, 0.5]]})
    assert [s(t) for t in (0, 5, 10, 15, 30)] == [0.0, 0.5, 1.0, 0.75, 0.5]


@pytest.mark.parametrize(
    ("spec", "msg"),
    [
        ({"kind": "linear", "start": 1.0, "steps": 3}, "end"),
        ({"kind": "linear", "start": 1.0, "end": 0.0}, "steps"),
        ({"kind": "constant"}, "value"),
        ({"kind": "piecewise", "points": [[2, 0], [1, 1]]}, "increasing"),
        ({"kind": "step", "start": 1.0, "gamma": 0}, "gamma"),
        ({"kind": "saw", "start": 1.0}, "unknown"),
    ],
)
def test_bad_specs_name_the_field(spec, msg):
    with pytest.raises(ScheduleError, match=msg) as err:
        make_schedules({"weights.format": spec})
    assert "weights.format" in str(err.value)


def test_bad_target_path():
    with pytest.raises(ScheduleError, match="target path"):
        make_schedules({"weights..format": {"kind": "constant", "value": 1}})


def test_nest_and_evaluate():
    scheds = make_schedules(
        {
            "weights.format": {"kind": "linear", "start": 0.5, "end": 0.0, "steps": 2},
            "tolerance": {"kind": "constant", "value": 1e-3},
        }
    )
    assert nest(evaluate_targets(scheds, 1)) == {"weights": {"format": 0.25}, "tolerance": 1e-3}
