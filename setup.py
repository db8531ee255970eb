"""Build hook: copy the checkout's shipped folders into the package (metadata lives in pyproject.toml).

The wheel carries ``envs/`` and ``rubrics/`` as ``openenv_harness/envs`` and ``openenv_harness/rubrics``
(their ``__init__.py`` stays the package's own shim), and ``conf/`` and ``tasksets/`` under
``openenv_harness/_data/``, so an installed wheel runs without a checkout and installs no generic top-level
packages. See ``openenv_harness/_layout.py``.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "outputs")


class BuildWithShippedFolders(build_py):
    """``build_py`` plus the shipped folders copied into ``build_lib/openenv_harness``."""

    def run(self) -> None:  # noqa: D102 - build_py.run, plus the copies
        super().run()
        if self.editable_mode:  # an editable install reads the checkout in place
            return
        pkg = Path(self.build_lib) / "openenv_harness"
        for name in ("envs", "rubrics"):
            src, dst = ROOT / name, pkg / name
            for child in src.iterdir() if src.is_dir() else ():
                if child.name in ("__init__.py", "__pycache__"):
                    continue  # the package keeps its own __init__ (the shim)
                target = dst / child.name
                if child.is_dir():
                    shutil.copytree(child, target, ignore=_SKIP, dirs_exist_ok=True)
                else:
                    shutil.copy2(child, target)
        for name in ("conf", "tasksets"):
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, pkg / "_data" / name, ignore=_SKIP, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithShippedFolders})
