"""The shipped environments (``openenv_harness.envs.<name>``), registered through entry points.

In a checkout their source is the root ``envs/`` folder (this package's path points there); in the wheel they
are copied here at build time. See :mod:`openenv_harness._layout`.
"""

from openenv_harness._layout import checkout_folder

__path__ = [*checkout_folder("envs"), *__path__]
