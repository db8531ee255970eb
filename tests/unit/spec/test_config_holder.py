import dataclasses
import threading

import pytest

from openenv_harness.spec import ConfigHolder, EnvError, ErrorCode


@dataclasses.dataclass
class Inner:
    temperature: float = 1.0


@dataclasses.dataclass
class Cfg:
    schema_version: str = "2"
    weights: dict[str, float] = dataclasses.field(default_factory=lambda: {"a": 1.0, "b": 0.5})
    max_len: int = 10
    inner: Inner = dataclasses.field(default_factory=Inner)


def test_partial_update_merges_and_bumps_version():
    h = ConfigHolder(Cfg)
    assert h.get()[1] == 0
    snap = h.update({"weights": {"b": 0.0}})
    assert snap["config_version"] == 1
    assert snap["config"]["weights"] == {"a": 1.0, "b": 0.0}
    assert snap["config"]["max_len"] == 10
    snap = h.update({"inner": {"temperature": 0.3}, "schema_version": "2"})
    assert snap["config_version"] == 2
    cfg, _ = h.get()
    assert isinstance(cfg.inner, Inner) and cfg.inner.temperature == 0.3
    assert "properties" in snap["json_schema"]


@pytest.mark.parametrize(
    ("update", "needle"),
    [
        ({"weights": {"c": 1.0}}, "weights.c"),
        ({"nope": 1}, "nope"),
        ({"inner": {"nope": 1}}, "inner.nope"),
        ({"weights": {"a": -0.1}}, "weights.a"),
        ({"weights": {"a": float("nan")}}, "weights.a"),
        ({"max_len": "ten"}, "max_len"),
        ({"schema_version": "1"}, "schema_version"),
    ],
)
def test_invalid_updates_name_the_field_and_change_nothing(update, needle):
    h = ConfigHolder(Cfg)
    before = h.snapshot()
    with pytest.raises(EnvError) as info:
        h.update(update)
    assert info.value.code == ErrorCode.CONFIG_INVALID
    assert needle in info.value.message
    assert h.snapshot() == before


def test_config_type_must_be_a_dataclass_with_schema_version():
    with pytest.raises(TypeError, match="dataclass"):
        ConfigHolder(dict)

    @dataclasses.dataclass
    class NoVersion:
        x: int = 1

    with pytest.raises(TypeError, match="schema_version"):
        ConfigHolder(NoVersion)


def test_concurrent_updates_are_never_torn():
    h = ConfigHolder(Cfg)
    seen: list[dict[str, float]] = []

    def writer(v: float) -> None:
        for _ in range(200):
            h.update({"weights": {"a": v, "b": v}})

    def reader() -> None:
        for _ in range(2000):
            cfg, _ = h.get()
            seen.append(dict(cfg.weights))

    threads = [threading.Thread(target=writer, args=(v,)) for v in (1.0, 2.0, 3.0)]
    threads.append(threading.Thread(target=reader))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert h.get()[1] == 600
    assert all(w["a"] == w["b"] for w in seen)
