"""A registry of agent-facing tools that refuses the orchestrator's reserved names.

Tools are plain Python callables whose first parameter is the *target* they act on (usually the environment
instance that owns the episode's state) and whose other parameters are the tool's arguments, typed so a JSON
schema can be derived. The same registry serves two surfaces:

* step-based use: ``registry.call(env, "sql", {"query": ...})`` validates the arguments and calls the tool;
* MCP: :func:`openenv_harness.mcp.build_mcp_server` turns every entry into an MCP tool (see ``_server.py``).

Reserved names (:data:`openenv_harness.spec.RESERVED_TOOL_NAMES`: reset, step, state, close, ...) are refused
at registration, because agents must never be able to reset or step their own episode.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from openenv_harness.spec import RESERVED_TOOL_NAMES

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")


class ReservedToolNameError(ValueError):
    """A tool was registered under a name reserved for orchestrator operations."""


class ToolCallError(Exception):
    """A tool call failed: unknown tool, invalid arguments, or the tool itself raised.

    The message is meant for the agent: it names the tool and the problem.
    """


def check_tool_name(name: str) -> str:
    """Validate a tool name and return it.

    Args:
        name: The proposed tool name.

    Returns:
        The name, unchanged.

    Raises:
        ReservedToolNameError: if the name (case-insensitively) is reserved for the orchestrator.
        ValueError: if the name is not a short identifier (letters, digits, ``_ . -``).
    """
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(f"invalid tool name {name!r}: use 1-64 letters, digits, '_', '.' or '-'")
    if name.lower() in RESERVED_TOOL_NAMES:
        raise ReservedToolNameError(
            f"tool name {name!r} is reserved for orchestrator operations "
            f"({', '.join(sorted(RESERVED_TOOL_NAMES))}); agents may not reset, step or reconfigure "
            "their own episode, so give the tool another name"
        )
    return name


@dataclass(frozen=True)
class ToolSpec:
    """One registered tool.

    Attributes:
        name: Public tool name.
        description: What the tool does (shown to the agent).
        fn: ``fn(target, **args)``; the first parameter receives the target (the environment).
        parameters: The tool's own parameters (without the target), with resolved annotations.
        args_model: Pydantic model validating the arguments of one call.
    """

    name: str
    description: str
    fn: Callable[..., Any]
    parameters: tuple[inspect.Parameter, ...]
    args_model: type[BaseModel]

    def input_schema(self) -> dict[str, Any]:
        """JSON schema of the tool's arguments."""
        return self.args_model.model_json_schema()

    def validate(self, args: dict[str, Any] | None) -> dict[str, Any]:
        """Validate ``args`` against the signature and return the coerced keyword arguments.

        Raises:
            ToolCallError: naming the first bad or missing argument.
        """
        if args is None:
            args = {}
        if not isinstance(args, dict):
            raise ToolCallError(f"{self.name}: arguments must be a JSON object, got {type(args).__name__}")
        try:
            model = self.args_model.model_validate(args)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "arguments"
            raise ToolCallError(f"{self.name}: argument {field!r}: {err['msg']}") from None
        return {p.name: getattr(model, p.name) for p in self.parameters}


def _spec_from_fn(fn: Callable[..., Any], name: str, description: str) -> ToolSpec:
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    if not params:
        raise TypeError(f"tool {name!r}: the first parameter must receive the target (e.g. the environment)")
    # Resolve the argument annotations only: the target's annotation may be a forward reference to a class
    # that is still being defined (tools declared above their environment class).
    wanted = {p.name for p in params[1:]}
    holder = type("_Annotations", (), {})
    holder.__annotations__ = {k: v for k, v in getattr(fn, "__annotations__", {}).items() if k in wanted}
    hints = typing.get_type_hints(holder, globalns=getattr(fn, "__globals__", None))
    own: list[inspect.Parameter] = []
    fields: dict[str, Any] = {}
    for p in params[1:]:
        if p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise TypeError(f"tool {name!r}: *args/**kwargs are not allowed (every argument needs a schema)")
        annotation = hints.get(p.name, Any)
        own.append(p.replace(annotation=annotation, kind=inspect.Parameter.POSITIONAL_OR_KEYWORD))
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[p.name] = (annotation, default)
    model = create_model(  # type: ignore[call-overload]
        f"{name.replace('.', '_').replace('-', '_')}_args",
        __config__=ConfigDict(extra="forbid"),
        **fields,
    )
    return ToolSpec(name=name, description=description, fn=fn, parameters=tuple(own), args_model=model)


class ToolRegistry:
    """An ordered set of tools with unique, non-reserved names.

    Example:
        >>> registry = ToolRegistry()
        >>> @registry.tool(description="Add two numbers.")
        ... def add(env: object, a: float, b: float) -> float:
        ...     return a + b
        >>> registry.call(None, "add", {"a": 1, "b": 2})
        3.0
    """

    def __init__(self) -> None:
        self._tools: dict[str, ToolSpec] = {}

    def add(
        self, fn: Callable[..., Any], name: str | None = None, description: str | None = None
    ) -> ToolSpec:
        """Register ``fn`` as a tool.

        Args:
            fn: ``fn(target, **args)`` with annotated arguments.
            name: Tool name (defaults to the function name).
            description: Shown to the agent (defaults to the first paragraph of the docstring).

        Returns:
            The new :class:`ToolSpec`.

        Raises:
            ReservedToolNameError: for reset/step/state/close and the other reserved names.
            ValueError: for an invalid or duplicate name.
        """
        tool_name = check_tool_name(name or fn.__name__)
        if tool_name in self._tools:
            raise ValueError(f"a tool named {tool_name!r} is already registered")
        doc = description if description is not None else (inspect.getdoc(fn) or "").split("\n\n")[0]
        spec = _spec_from_fn(fn, tool_name, doc.strip())
        self._tools[tool_name] = spec
        return spec

    def tool(
        self, name: str | None = None, description: str | None = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator form of :meth:`add`; returns the function unchanged."""

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.add(fn, name=name, description=description)
            return fn

        return decorate

    def get(self, name: str) -> ToolSpec:
        """The tool called ``name``.

        Raises:
            ToolCallError: naming the available tools when ``name`` is unknown.
        """
        try:
            return self._tools[name]
        except KeyError:
            raise ToolCallError(f"unknown tool {name!r}; available tools: {', '.join(self._tools)}") from None

    def names(self) -> list[str]:
        """Registered tool names, in registration order."""
        return list(self._tools)

    def __iter__(self) -> Iterator[ToolSpec]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def call(self, target: Any, name: str, args: dict[str, Any] | None = None) -> Any:
        """Validate the arguments and call a tool on ``target``.

        Raises:
            ToolCallError: unknown tool, bad arguments, or the tool raised (its message is kept).
        """
        spec = self.get(name)
        kwargs = spec.validate(args)
        try:
            return spec.fn(target, **kwargs)
        except ToolCallError:
            raise
        except Exception as exc:
            # The agent needs the message to correct its next call; the type names the kind of failure.
            raise ToolCallError(f"{name} failed: {type(exc).__name__}: {exc}") from exc

    def describe(self) -> list[dict[str, Any]]:
        """Name, description and input schema of every tool (for prompts and ``/metadata``)."""
        return [
            {"name": s.name, "description": s.description, "input_schema": s.input_schema()} for s in self
        ]
