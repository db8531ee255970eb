"""The :class:`Rubric` base: a callable reward component configured by a dataclass.

A rubric maps ``(action, observation)`` to a finite float. Its parameters live in a dataclass (``Config``) so
Hydra can compose and type-check them; child rubrics assigned as attributes are registered automatically (as in
``torch.nn.Module``) and get dotted names. ``forward`` may be ``async def`` (judges, tools): ``rubric(...)`` is
a sync facade that runs it, ``await rubric.acall(...)`` runs the whole tree on the caller's loop, with children
of containers evaluated concurrently.

Ground truth never travels on observations (it would reach the agent), so the environment hands it to the rubric
tree at the start of each episode: ``rubric.reset(context={"answer": "42"})``; every rubric reads
``self.context``.
"""

from __future__ import annotations

import contextvars
import dataclasses
import inspect
import math
import re
import weakref
from collections.abc import Awaitable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from ._config import RubricConfig, RubricError, validate_config
from ._result import RewardResult
from ._sync import run_sync

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$|^[0-9]+$")
_EMPTY: Mapping[str, Any] = MappingProxyType({})

# While RewardResult scoring runs, every rubric call records its value here (keyed by id), so nested components
# can be reported by dotted name without each rubric knowing where it sits. A ContextVar keeps concurrent
# scorings (threads, asyncio tasks) apart.
_RECORD: contextvars.ContextVar[dict[int, float] | None] = contextvars.ContextVar(
    "rubric_record", default=None
)


def snake_name(cls: type) -> str:
    """``ExactMatch`` -> ``exact_match``, ``LLMJudge`` -> ``llm_judge``: a root rubric's component name."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", cls.__name__).lower()


class Rubric:
    """Base class of every reward component.

    Subclasses declare ``Config`` (a dataclass of their parameters) and implement ``forward`` (sync or
    ``async def``) returning a finite float. Construct with keyword arguments that are config fields
    (``ExactMatch(case_sensitive=True)``), or with a ready config object.

    Args:
        config: A ``Config`` instance (optional).
        **overrides: Config fields, type-checked.

    Attributes:
        config: The validated config dataclass.
        context: The episode context (ground truth, task fields) set by :meth:`reset`.
    """

    Config: ClassVar[type] = RubricConfig
    config: Any
    context: Mapping[str, Any]
    _children: dict[str, Rubric]
    _parent: weakref.ref[Rubric] | None
    _name: str
    _async_cache: bool | None

    def __init__(self, config: Any | None = None, **overrides: Any) -> None:
        object.__setattr__(self, "_children", {})
        object.__setattr__(self, "_parent", None)
        object.__setattr__(self, "_name", "")
        object.__setattr__(self, "_async_cache", None)
        owner = type(self).__name__
        if config is None:
            config = validate_config(type(self).Config, overrides, owner)
        elif overrides:
            config = validate_config(type(self).Config, {**dataclasses.asdict(config), **overrides}, owner)
        elif not isinstance(config, type(self).Config):
            raise RubricError(f"{owner}: config must be a {type(self).Config.__name__}, got {type(config)!r}")
        self.config = config
        self.context = _EMPTY

    # ----- children -------------------------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        children: dict[str, Rubric] | None = self.__dict__.get("_children")
        if isinstance(value, Rubric):
            if children is None:
                raise RubricError(
                    f"{type(self).__name__}: call super().__init__() before assigning child rubrics"
                )
            self._register(name, value)
        elif children is not None and name in children:
            del children[name]
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self.__dict__["_children"].pop(name, None)
        object.__delattr__(self, name)

    def _register(self, name: str, child: Rubric) -> None:
        if not _NAME_RE.match(name):
            raise RubricError(
                f"{type(self).__name__}: invalid child rubric name {name!r} (use a Python identifier)"
            )
        if child is self:
            raise RubricError(f"{type(self).__name__}: a rubric cannot be its own child")
        self._children[name] = child
        object.__setattr__(child, "_parent", weakref.ref(self))
        object.__setattr__(child, "_name", name)
        object.__setattr__(self, "_async_cache", None)

    def add_rubric(self, name: str, child: Rubric) -> None:
        """Register ``child`` under ``name`` (what attribute assignment does, for names chosen at run time).

        Raises:
            RubricError: if ``name`` is not an identifier or clashes with an attribute of the rubric.
        """
        if not isinstance(child, Rubric):
            raise RubricError(f"{type(self).__name__}: child {name!r} must be a Rubric, got {type(child)!r}")
        if hasattr(type(self), name) or (name in self.__dict__ and name not in self._children):
            raise RubricError(f"{type(self).__name__}: child name {name!r} clashes with an attribute")
        setattr(self, name, child)

    def named_children(self) -> Iterator[tuple[str, Rubric]]:
        """Direct children with their names, in registration order."""
        yield from self._children.items()

    def children(self) -> Iterator[Rubric]:
        """Direct children, in registration order."""
        yield from self._children.values()

    def named_rubrics(self, prefix: str = "", include_self: bool = False) -> Iterator[tuple[str, Rubric]]:
        """Every descendant with its dotted name (pre-order), e.g. ``correct``, ``style.length``.

        Args:
            prefix: Prepended (with a dot) to every name.
            include_self: Also yield ``(prefix, self)`` first.
        """
        if include_self:
            yield prefix, self
        for name, child in self._children.items():
            full = f"{prefix}.{name}" if prefix else name
            yield full, child
            yield from child.named_rubrics(full)

    @property
    def path(self) -> str:
        """Dotted name from the root of the tree this rubric sits in (``""`` for a root)."""
        parts: list[str] = []
        node: Rubric | None = self
        while node is not None and node._parent is not None:
            parts.append(node._name)
            node = node._parent()
        return ".".join(reversed(parts))

    def _label(self) -> str:
        path = self.path
        return f"rubric {path!r} ({type(self).__name__})" if path else f"rubric {type(self).__name__}"

    # ----- calling --------------------------------------------------------------------------------------------
    def forward(self, action: Any, observation: Any) -> float | Awaitable[float]:
        """Score one step. Override (sync or ``async def``); return a finite number."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward(action, observation)")

    async def aforward(self, action: Any, observation: Any) -> float:
        """Async scoring; containers override it to evaluate children concurrently."""
        out = self.forward(action, observation)
        if inspect.isawaitable(out):
            out = await out
        return out  # type: ignore[return-value]

    @property
    def is_async(self) -> bool:
        """True if this rubric or any descendant has an ``async def forward``."""
        cached = self._async_cache
        if cached is None:
            cached = inspect.iscoroutinefunction(type(self).forward) or any(
                c.is_async for c in self.children()
            )
            object.__setattr__(self, "_async_cache", cached)
        return cached

    def __call__(self, action: Any, observation: Any) -> float:
        """Score one step synchronously (async trees run on an event loop of their own).

        Raises:
            RubricError: if the score is not a finite number (NaN, inf, None, a string).
        """
        if self.is_async:
            return run_sync(self.acall(action, observation))  # type: ignore[no-any-return]
        return self._check(self.forward(action, observation))

    async def acall(self, action: Any, observation: Any) -> float:
        """Score one step on the running loop (children of containers concurrently)."""
        return self._check(await self.aforward(action, observation))

    def _check(self, value: Any) -> float:
        if type(value) is not float:
            if isinstance(value, bool | int) or (hasattr(value, "__float__") and not isinstance(value, str)):
                value = float(value)
            else:
                raise RubricError(f"{self._label()} returned {value!r}; forward must return a finite number")
        if not math.isfinite(value):
            raise RubricError(f"{self._label()} returned {value}; forward must return a finite number")
        record = _RECORD.get()
        if record is not None:
            record[id(self)] = value
        return value  # type: ignore[no-any-return]

    # ----- env-facing scoring ---------------------------------------------------------------------------------
    def reward_components(self) -> dict[str, Rubric]:
        """The weighted components when this rubric is the root of an env's reward.

        A :class:`~openenv_harness.rubric.WeightedSum` returns its children; any other rubric is one component
        named after its class (``ExactMatch`` -> ``exact_match``).
        """
        return {snake_name(type(self)): self}

    def default_weights(self) -> dict[str, float]:
        """Weights of :meth:`reward_components` when the env config does not override them."""
        return dict.fromkeys(self.reward_components(), 1.0)

    @property
    def normalizes(self) -> bool:
        """Whether the weighted sum of components is divided by the sum of the weights."""
        return False

    def score(
        self,
        action: Any,
        observation: Any,
        weights: Mapping[str, float] | None = None,
        *,
        error_reward: float | None = None,
        skip_zero_weights: bool = False,
    ) -> RewardResult:
        """Score a step the way an environment reports it: scalar reward, raw components, weights, errors.

        Args:
            action: The agent's action.
            observation: The observation the step produced (before reward is filled in).
            weights: Weights by component name (the env's ``reward_config.weights``); missing names keep
                :meth:`default_weights`, unknown names or negative values raise.
            error_reward: The reward when a component with a non-zero weight failed (default None: no reward
                is better than a made-up one; the trainer masks the sample).
            skip_zero_weights: Do not evaluate components whose weight is 0 (they cannot change the reward;
                saves judge calls when a schedule switches one off). They are then absent from ``components``.

        Returns:
            A :class:`RewardResult`; ``result.to_metadata()`` goes into the observation metadata.
        """
        from ._scoring import score_sync

        return score_sync(self, action, observation, weights, error_reward, skip_zero_weights)

    async def ascore(
        self,
        action: Any,
        observation: Any,
        weights: Mapping[str, float] | None = None,
        *,
        error_reward: float | None = None,
        skip_zero_weights: bool = False,
    ) -> RewardResult:
        """Async :meth:`score`: components are evaluated concurrently on the running loop."""
        from ._scoring import score_async

        return await score_async(self, action, observation, weights, error_reward, skip_zero_weights)

    # ----- episodes and state ---------------------------------------------------------------------------------
    def reset(self, context: Mapping[str, Any] | None = None) -> None:
        """Start a new episode: set the episode context on the whole tree and clear per-episode state.

        Args:
            context: Ground truth and task fields the rubrics read (e.g. ``{"answer": "42"}``); kept read-only.
        """
        ctx: Mapping[str, Any] = MappingProxyType(dict(context)) if context else _EMPTY
        for _, rubric in self.named_rubrics(include_self=True):
            rubric.context = ctx
            rubric.on_reset()

    def on_reset(self) -> None:  # noqa: B027 - optional hook
        """Hook: clear per-episode state (called by :meth:`reset` on every rubric of the tree)."""

    def get_extra_state(self) -> dict[str, Any]:
        """Hook: JSON-able state beyond the config (running statistics, counters)."""
        return {}

    def set_extra_state(self, state: Mapping[str, Any]) -> None:  # noqa: B027 - optional hook
        """Hook: restore what :meth:`get_extra_state` returned."""

    def state_dict(self) -> dict[str, dict[str, Any]]:
        """Config and extra state of every rubric in the tree, keyed by dotted name (root is ``""``)."""
        return {
            name: {
                "type": f"{type(r).__module__}.{type(r).__qualname__}",
                "config": dataclasses.asdict(r.config),
                "state": r.get_extra_state(),
            }
            for name, r in self.named_rubrics(include_self=True)
        }

    def load_state_dict(self, state: Mapping[str, Mapping[str, Any]], strict: bool = True) -> None:
        """Restore configs and extra state saved by :meth:`state_dict`.

        Args:
            state: What :meth:`state_dict` returned (possibly through JSON).
            strict: Refuse missing or unexpected rubric names.

        Raises:
            RubricError: naming missing/unexpected rubrics, a type mismatch or an invalid config field.
        """
        mine = dict(self.named_rubrics(include_self=True))
        missing, unexpected = sorted(set(mine) - set(state)), sorted(set(state) - set(mine))
        if strict and (missing or unexpected):
            raise RubricError(f"load_state_dict: missing rubrics {missing}, unexpected rubrics {unexpected}")
        for name, entry in state.items():
            rubric = mine.get(name)
            if rubric is None:
                continue
            want = f"{type(rubric).__module__}.{type(rubric).__qualname__}"
            if entry.get("type", want) != want:
                raise RubricError(
                    f"load_state_dict: {name or 'root'!r} is a {want}, state is for {entry['type']}"
                )
            if "config" in entry:
                rubric.config = validate_config(type(rubric).Config, entry["config"], want)
            rubric.set_extra_state(entry.get("state") or {})

    # ----- copying / pickling: the parent link is a weakref, rebuilt from the parent's side --------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_parent"] = None
        state["_async_cache"] = None
        state["context"] = dict(self.context)  # a mappingproxy cannot be pickled
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__["context"] = MappingProxyType(state["context"]) if state.get("context") else _EMPTY
        # Children were restored before their parent (pickle and deepcopy build the state first).
        for child in self._children.values():
            object.__setattr__(child, "_parent", weakref.ref(self))

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.config})"]
        for name, child in self._children.items():
            lines.append(f"  ({name}): " + repr(child).replace("\n", "\n  "))
        return "\n".join(lines)
