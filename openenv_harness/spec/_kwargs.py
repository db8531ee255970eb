"""Constructor arguments of an environment, checked against what its signature declares.

An environment states what its constructor accepts in the signature itself: the annotation gives the type and
``typing.Annotated`` with pydantic's :class:`~pydantic.Field` gives the bounds, e.g.
``attempts: Annotated[int, Field(ge=1, le=10)] = 1`` or ``sandbox: Literal["bwrap", "none"]``. Nothing else
declares them, so three places read one source:

* :func:`check_init_kwargs` — the harness's config check (``env.kwargs.attempts=11`` is refused in one line
  before any server starts) and a server's start-up (``--env-kwargs``);
* :func:`validated_init` — the constructor itself, so ``ArithEnvironment(attempts=11)`` in Python fails the
  same way.

Values are checked, never converted: the constructor receives what the caller passed (pydantic's lax mode
decides what is acceptable, so ``"3"`` passes for an ``int`` as the config layer would pass it).
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

_F = TypeVar("_F", bound=Callable[..., None])


class InitKwargError(ValueError):
    """A constructor argument an environment does not take, or a value its declaration rejects.

    Attributes:
        name: Dotted name of the argument (``attempts``, or ``user.temperature`` inside a nested config).
        reason: Why, in a few words (pydantic's message for a value).
        takes: For an unknown name, the arguments the constructor does take (else empty).
        value: For a rejected value, a short repr of it (else empty).
        detail: For a rejected value, what the declaration wants (pydantic's message).
    """

    def __init__(
        self, name: str, reason: str, takes: tuple[str, ...] = (), value: str = "", detail: str = ""
    ) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason
        self.takes = takes
        self.value = value
        self.detail = detail


def _init_of(target: Any) -> Callable[..., Any]:
    if isinstance(target, type):
        init = vars(target).get("__init__")
        if init is None:  # inherited: the first class of the MRO that defines it
            init = target.__init__  # type: ignore[misc]
        return typing.cast(Callable[..., Any], inspect.unwrap(init))
    return typing.cast(Callable[..., Any], target)


@functools.lru_cache(maxsize=256)
def _declared(target: Any) -> tuple[dict[str, inspect.Parameter], bool, dict[str, TypeAdapter[Any]]]:
    """``(named parameters, takes **kwargs, adapter per annotated parameter)`` of a class's constructor."""
    init = _init_of(target)
    params = {
        n: p
        for n, p in inspect.signature(init).parameters.items()
        if n != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }
    open_ended = any(p.kind is p.VAR_KEYWORD for p in inspect.signature(init).parameters.values())
    try:
        hints = typing.get_type_hints(init, include_extras=True)
    except Exception:  # unresolvable annotations: names are still checked, values are the constructor's job
        hints = {}
    adapters: dict[str, TypeAdapter[Any]] = {}
    for name in params:
        if name in hints:
            try:
                adapters[name] = TypeAdapter(hints[name])
            except (
                Exception
            ):  # a type pydantic cannot validate (an arbitrary class): the constructor checks it
                continue
    return params, open_ended, adapters


def check_init_kwargs(target: Any, kwargs: Mapping[str, Any], skip: frozenset[str] = frozenset()) -> None:
    """Refuse ``kwargs`` that ``target``'s constructor does not take or whose values its annotations reject.

    Args:
        target: An environment class (its ``__init__`` is read) or a function.
        kwargs: The arguments that would be passed (only these are checked; defaults are the author's).
        skip: Names to leave alone (arguments a framework adds itself).

    Raises:
        InitKwargError: the first offending argument, named (nested configs by a dotted path).
    """
    params, open_ended, adapters = _declared(target)
    for name, value in kwargs.items():
        if name in skip:
            continue
        if name not in params:
            if open_ended:
                continue
            raise InitKwargError(
                name, f"not an argument (it takes: {', '.join(params) or 'none'})", takes=tuple(params)
            )
        adapter = adapters.get(name)
        if adapter is None:
            continue
        try:
            adapter.validate_python(value)
        except ValidationError as exc:
            err = exc.errors()[0]
            inner = ".".join(str(p) for p in err.get("loc", ()) if not _is_union_tag(p))
            where = f"{name}.{inner}" if inner else name
            shown, detail = repr(err.get("input", value))[:60], str(err.get("msg", "invalid"))
            raise InitKwargError(
                where, f"{shown} is not valid ({detail})", value=shown, detail=detail
            ) from None


_PLAIN_TAGS = frozenset({"int", "str", "float", "bool", "dict", "list", "tuple", "none"})


def _is_union_tag(part: Any) -> bool:
    """Pydantic names the union member it tried in ``loc`` (``int``, ``list[str]``): not a field name."""
    return isinstance(part, str) and ("[" in part or part in _PLAIN_TAGS)


def validated_init(init: _F) -> _F:
    """Decorate an environment's ``__init__`` so the arguments it is given are checked against its declaration.

    The check is :func:`check_init_kwargs` on the arguments actually passed (positional ones included); the
    constructor then runs with them unchanged.

    Raises:
        InitKwargError: (a ``ValueError``) naming the argument.
    """

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        bound = inspect.signature(init).bind(self, *args, **kwargs)
        given = {k: v for k, v in bound.arguments.items() if k != "self"}
        named = _declared(init)[0]
        check_init_kwargs(init, {k: v for k, v in given.items() if k in named})
        init(self, *args, **kwargs)

    return typing.cast(_F, wrapper)
