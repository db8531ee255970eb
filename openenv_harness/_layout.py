"""Where the shipped data lives, in a checkout and in an installed wheel, and the checkout's import aliases.

A checkout keeps ``conf/``, ``tasksets/``, ``envs/`` and ``rubrics/`` at its root. The wheel carries them
inside the package, so installing it adds no generic top-level names (``envs``, ``rubrics``) to
``site-packages``: ``openenv_harness/_data/{conf,tasksets}`` and the packages ``openenv_harness.envs`` and
``openenv_harness.rubrics`` (``setup.py`` copies them at build time). In a checkout those two packages are
thin shims whose ``__path__`` points at the root folders (:func:`checkout_folder`), and importing the
top-level ``envs``/``rubrics`` (the repository's own code and tests do) gives the *same* module objects
through :func:`alias_package`, so a class is never imported twice under two names.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

PACKAGE_DIR = Path(__file__).resolve().parent
_ROOT = PACKAGE_DIR.parent


def is_checkout() -> bool:
    """Whether the package runs from a source checkout (its parent holds ``pyproject.toml`` and ``conf/``)."""
    return (_ROOT / "pyproject.toml").is_file() and (_ROOT / "conf" / "config.yaml").is_file()


def data_root() -> Path:
    """The folder holding ``conf/`` and ``tasksets/``: the checkout root, else the wheel's ``_data``."""
    return _ROOT if is_checkout() else PACKAGE_DIR / "_data"


def checkout_folder(name: str) -> list[str]:
    """``[<checkout>/name]`` when running from a checkout that has that folder, else ``[]``."""
    folder = _ROOT / name
    return [str(folder)] if is_checkout() and (folder / "__init__.py").is_file() else []


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports ``alias.x.y`` as the already-importable ``target.x.y`` (the same module object)."""

    def __init__(self, alias: str, target: str) -> None:
        self.alias, self.target = alias, target
        self._specs: dict[str, object] = {}

    def _real(self, fullname: str) -> str:
        return self.target + fullname[len(self.alias) :]

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.alias and not fullname.startswith(self.alias + "."):
            return None
        real = importlib.util.find_spec(self._real(fullname))
        if real is None:
            return None
        return importlib.util.spec_from_loader(
            fullname, self, is_package=real.submodule_search_locations is not None
        )

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self._real(spec.name))
        self._specs[spec.name] = module.__spec__  # the import system overwrites it; put it back
        return module

    def exec_module(self, module: ModuleType) -> None:
        original = self._specs.pop(getattr(module.__spec__, "name", ""), None)
        if original is not None:
            module.__spec__ = original  # type: ignore[assignment]


def alias_package(alias: str, target: str) -> ModuleType:
    """Make ``import alias...`` give the modules of ``target...`` (installed once per alias)."""
    if not any(isinstance(f, _Alias) and f.alias == alias for f in sys.meta_path):
        sys.meta_path.insert(0, _Alias(alias, target))
    module = importlib.import_module(target)
    sys.modules[alias] = module
    return module
