"""``mode=new_env name=NAME [dir=PATH]``: write a new environment that passes ``check_env`` as generated.

Two layouts:

* **In this checkout** (no ``dir``): the package in ``envs/NAME/``, its test in ``tests/envs/NAME/``, its Hydra
  entries in ``conf/env/NAME.yaml`` and ``conf/schedule/NAME.yaml``, and an ``openenv_harness.envs`` entry point
  in ``pyproject.toml`` (reinstall — ``pip install -e . --no-deps`` or ``scripts/setup.sh`` — and ``env=NAME``
  resolves everywhere, servers included).
* **In a folder of your own** (``dir=PATH``, or no checkout): one self-contained folder ``PATH/NAME/`` holding
  the package, ``tests/`` and ``conf/`` (use it with ``--config-dir PATH/NAME/conf`` once your package
  registers the env by an entry point, or serve it by import path).

Nothing is overwritten: an existing folder or file is an error, and so is a name that is not a lowercase
identifier, that shadows a standard-library module, or that is already a registered env.
"""

from __future__ import annotations

import keyword
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .._layout import is_checkout
from . import _templates as t

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_ENTRY_POINTS = '[project.entry-points."openenv_harness.envs"]'


class ScaffoldError(ValueError):
    """A ``mode=new_env`` request that cannot be honoured (bad name, existing files); the message says why."""


@dataclass
class Scaffold:
    """What :func:`new_env` wrote.

    Attributes:
        name: The env id.
        package: Import path of the env package (``envs.NAME`` in a checkout, else ``NAME``).
        folder: The env package folder.
        files: Every file written.
        registered: ``pyproject.toml`` got an entry point (checkout layout).
    """

    name: str
    package: str
    folder: Path
    files: list[Path] = field(default_factory=list)
    registered: bool = False

    def next_steps(self) -> str:
        """What to run next, for the command's output."""
        steps = [f"new env {self.name!r} in {self.folder} ({len(self.files)} files)"]
        tests = next(p for p in self.files if p.name == f"test_{self.name}.py")
        if self.registered:
            steps.append(
                "registered in pyproject.toml: run `pip install -e . --no-deps` so env=NAME resolves"
            )
        else:
            steps.append(
                f'register it: `NAME = "{self.package}:{class_prefix(self.name)}Environment"` under '
                '[project.entry-points."openenv_harness.envs"] of your package (then env=NAME works, with '
                f"--config-dir {self.folder / 'conf'})"
            )
        steps.append(f"test it:  pytest {tests}")
        return "\n".join(steps).replace("NAME", self.name)


def class_prefix(name: str) -> str:
    """``word_flip`` -> ``WordFlip``."""
    return "".join(part.capitalize() for part in name.split("_") if part)


def check_name(name: str) -> None:
    """Refuse a name that cannot be an env id and a package name.

    Raises:
        ScaffoldError: naming the rule it breaks.
    """
    from ..spec import registered

    if not _NAME.fullmatch(name or ""):
        raise ScaffoldError(f"name={name!r}: use a lowercase identifier (letters, digits, _; a letter first)")
    if keyword.iskeyword(name) or name in sys.stdlib_module_names:
        raise ScaffoldError(
            f"name={name!r}: shadows a Python keyword or standard-library module; pick another"
        )
    if name in registered():
        raise ScaffoldError(f"name={name!r}: an environment with this id is already registered")


def _write(path: Path, text: str, files: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x") as f:  # "x": never overwrite
        f.write(text)
    files.append(path)


def _register_entry_point(pyproject: Path, name: str) -> None:
    """Add ``NAME = "openenv_harness.envs.NAME:ClassEnvironment"`` to the envs entry-point table."""
    lines = pyproject.read_text().splitlines(keepends=True)
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == _ENTRY_POINTS)
    except StopIteration:
        raise ScaffoldError(f"{pyproject} has no {_ENTRY_POINTS} table to register the env in") from None
    end = start + 1
    while end < len(lines) and lines[end].strip() and not lines[end].lstrip().startswith("["):
        end += 1
    entry = f'{name} = "openenv_harness.envs.{name}:{class_prefix(name)}Environment"\n'
    pyproject.write_text("".join([*lines[:end], entry, *lines[end:]]))


def new_env(name: str, dir: str | Path | None = None) -> Scaffold:
    """Write a new environment (see the module docstring for the two layouts).

    Args:
        name: The env id (a lowercase identifier), also its folder and package name.
        dir: Folder to create ``NAME/`` in (default: this checkout's ``envs/``, or the current directory when
            the package is installed without a checkout).

    Returns:
        What was written.

    Raises:
        ScaffoldError: a bad name, or a file that already exists (nothing is overwritten; files written
            before the clash stay).
    """
    check_name(name)
    from .._layout import data_root

    in_checkout = dir is None and is_checkout()
    if in_checkout:
        root = data_root()
        folder = root / "envs" / name
        package, tests_dir, conf_dir = f"envs.{name}", root / "tests" / "envs" / name, root / "conf"
    else:
        folder = Path(dir or ".").resolve() / name
        package, tests_dir, conf_dir = name, folder / "tests", folder / "conf"
    if folder.exists():
        raise ScaffoldError(f"{folder} already exists; choose another name or dir")
    for path in (conf_dir / "env" / f"{name}.yaml", tests_dir / f"test_{name}.py"):
        if path.exists():
            raise ScaffoldError(f"{path} already exists; choose another name")

    tests_path = tests_dir / f"test_{name}.py"
    conf_path = conf_dir / "env" / f"{name}.yaml"
    registration = (
        "`pyproject.toml` declares it as an `openenv_harness.envs` entry point; after `pip install -e . --no-deps` "
        f"`env={name}` works in every command."
        if in_checkout
        else "Declare it in your package's `pyproject.toml` as an entry point of the group "
        f'`openenv_harness.envs` (`{name} = "{package}:{class_prefix(name)}Environment"`), or call '
        f'`openenv_harness.register("{name}", "{package}:{class_prefix(name)}Environment")` in your process.'
    )
    values = {
        "name": name,
        "Camel": class_prefix(name),
        "package": package,
        "tests_path": _shown(tests_path, folder),
        "conf_path": _shown(conf_path, folder),
        "registration": registration,
        "config_dir": "" if in_checkout else f" --config-dir {folder / 'conf'}",
    }
    out = Scaffold(name=name, package=package, folder=folder)
    for filename, template in (
        ("__init__.py", t.INIT),
        ("models.py", t.MODELS),
        ("environment.py", t.ENVIRONMENT),
        ("adapter.py", t.ADAPTER),
        ("oracle.py", t.ORACLE),
        ("README.md", t.README),
    ):
        _write(folder / filename, template.substitute(values), out.files)
    if not in_checkout:
        _write(tests_dir / "__init__.py", "", out.files)  # pytest then imports the tests as NAME.tests
    _write(tests_path, t.TESTS.substitute(values), out.files)
    _write(conf_path, t.CONF_ENV.substitute(values), out.files)
    _write(conf_dir / "schedule" / f"{name}.yaml", t.CONF_SCHEDULE.substitute(values), out.files)
    _format([p for p in out.files if p.suffix == ".py"])
    if in_checkout:
        pyproject = data_root() / "pyproject.toml"
        _register_entry_point(pyproject, name)
        out.files.append(pyproject)
        out.registered = True
    return out


def _format(files: list[Path]) -> None:
    """Lay the generated code out with ``ruff format`` when it is installed (line breaks depend on the name).

    Cosmetic and best effort: without ruff, or if it fails, the files stay as rendered (valid Python either way).
    """
    ruff = shutil.which("ruff")
    if ruff and files:
        subprocess.run([ruff, "format", "--quiet", *map(str, files)], check=False, timeout=60)


def _shown(path: Path, folder: Path) -> str:
    """A path as the README shows it: relative to the env folder when inside it, else to the checkout."""
    for base in (folder, folder.parent.parent):
        try:
            return str(path.relative_to(base))
        except ValueError:
            continue
    return str(path)
