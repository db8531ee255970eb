"""The harness's own event files are ordinary TensorBoard files: read back with TensorBoard's reader."""

import pytest

from openenv_harness.harness.records import read_scalars
from openenv_harness.harness.tb_events import ScalarEventWriter


def test_scalars_round_trip_through_tensorboards_reader(tmp_path):
    writer = ScalarEventWriter(tmp_path)
    for step in range(5):
        writer.add_scalar("reward/mean", step / 4, step)
        writer.add_scalar("config/version", step + 1, step)
        writer.flush()
    writer.add_scalar("late/only", 2.5, 7)  # written by close()
    writer.close()
    writer.close()  # idempotent
    scalars = read_scalars(tmp_path)
    assert scalars["reward/mean"] == [(s, pytest.approx(s / 4)) for s in range(5)]
    assert [v for _, v in scalars["config/version"]] == [1, 2, 3, 4, 5]
    assert scalars["late/only"] == [(7, 2.5)]
    assert writer.path.name.startswith("events.out.tfevents.")


def test_two_writers_in_one_dir_are_both_read(tmp_path):
    a, b = ScalarEventWriter(tmp_path), ScalarEventWriter(tmp_path)
    a.add_scalar("x", 1.0, 0)
    b.add_scalar("y", 2.0, 0)
    a.close()
    b.close()
    assert a.path != b.path
    assert read_scalars(tmp_path) == {"x": [(0, 1.0)], "y": [(0, 2.0)]}
