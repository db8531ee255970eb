"""``python -m openenv_harness``: see :mod:`openenv_harness.cli`."""

from .cli import main

if __name__ == "__main__":
    main()
