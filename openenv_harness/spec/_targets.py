"""Config ``_target_`` resolution by registration, never by attribute path.

A ``_target_`` in a config (a rubric tree, ``--env module:Class``) names code that will run, so it may name only
what was made to be named. :func:`resolve_target` accepts ``package.module.Name`` or ``package.module:Name``
and returns the object only when all of these hold:

* the path is under :data:`~openenv_harness.spec.ALLOWED_TARGET_PREFIXES` (checked before anything is imported);
* the module part is imported **as a module by its full name** and ``Name`` is one attribute of it: no walk
  through a module's attributes, so ``openenv_harness.sandbox._workdir.shutil.copyfile`` (the ``shutil`` that a
  module happens to import) is never reached;
* the object is registered for the kind asked for. A class is registered by subclassing the kind's base class
  (every :class:`~openenv_harness.rubric.Rubric` subclass is a registered rubric and every
  :class:`Environment` subclass a registered environment, as a ``torch.nn.Module`` subclass is a module); a
  function is registered as a factory of that kind by declaring it in its return annotation
  (``def arith_rubric(...) -> WeightedSum``); any other object only by its exact name, given to
  :func:`allow_target`.

Hydra's ``instantiate`` resolves ``_target_`` by walking attributes from the first importable prefix; that is
why nothing of ours hands it a ``_target_``: :func:`openenv_harness.rubric.build_rubric` resolves every target
here and calls it itself.
"""

from __future__ import annotations

import importlib
import inspect
import re
import typing
from typing import Any

from ._registry import check_target

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_allowed: set[str] = set()


def allow_target(path: str) -> None:
    """Allow one exact ``module.Name`` / ``module:Name`` as a target of any kind (an explicit allow-list).

    For objects that are neither a registered class nor a declared factory, or that live outside the
    allowed packages. The name still resolves by importing its module and taking one attribute.
    """
    _allowed.add(_normal(path))


def allowed_targets() -> frozenset[str]:
    """The exact names given to :func:`allow_target`."""
    return frozenset(_allowed)


def _normal(path: str) -> str:
    module, name = split_target(path)
    return f"{module}.{name}"


def split_target(path: str) -> tuple[str, str]:
    """``(module, name)`` of ``"module:Name"`` or ``"module.Name"``.

    Raises:
        ValueError: for anything but dotted identifiers with a single final name.
    """
    if not isinstance(path, str) or not path:
        raise ValueError(f"a target must be a non-empty 'module.Name' string, got {path!r}")
    if ":" in path:
        module, _, name = path.partition(":")
    else:
        module, _, name = path.rpartition(".")
    parts = module.split(".") if module else []
    if not parts or not all(_IDENTIFIER.match(p) for p in [*parts, name]):
        raise ValueError(f"{path!r} is not a 'package.module.Name' target")
    return module, name


def _article(word: str) -> str:
    return "an" if word[:1].upper() in "AEIOU" else "a"


def _declared_return(fn: Any) -> Any:
    try:
        return typing.get_type_hints(fn).get("return")
    except Exception:  # noqa: BLE001 - unresolvable annotations: not a declared factory
        return None


def is_registered(obj: Any, base: type) -> bool:
    """True if ``obj`` is a ``base`` subclass or a function whose return annotation is one."""
    if inspect.isclass(obj):
        return issubclass(obj, base)
    if inspect.isfunction(obj):
        returned = _declared_return(obj)
        return inspect.isclass(returned) and issubclass(returned, base)
    return False


def resolve_target(path: str, base: type, *, kind: str | None = None) -> Any:
    """The class or factory ``path`` names, if it is registered as a ``base`` (see the module docstring).

    Args:
        path: ``"package.module.Name"`` or ``"package.module:Name"``.
        base: The kind's base class (``Rubric``, ``Environment``).
        kind: How to call the kind in messages (default: the base's name).

    Raises:
        ValueError: outside the allowed packages, not a module attribute, or not registered for ``base``.
        ImportError: the module cannot be imported or has no such name.
    """
    kind = kind or base.__name__
    module_name, name = split_target(path)
    exact = f"{module_name}.{name}"
    explicitly_allowed = exact in _allowed
    if not explicitly_allowed:
        check_target(exact)
    module = importlib.import_module(module_name)
    try:
        obj = vars(module)[name]
    except KeyError:
        raise ImportError(f"module {module_name!r} has no attribute {name!r} (target {path!r})") from None
    if explicitly_allowed or is_registered(obj, base):
        return obj
    if inspect.ismodule(obj):
        what = "a module"
    elif inspect.isclass(obj):
        what = f"class {obj.__name__}"
    else:
        what = f"a {type(obj).__name__}"
    raise ValueError(
        f"refusing target {path!r}: it is {what}, not {_article(kind)} {kind} class or a function declared to return one "
        f"(allow exact names with openenv_harness.spec.allow_target)"
    )


__all__ = ["allow_target", "allowed_targets", "is_registered", "resolve_target", "split_target"]
