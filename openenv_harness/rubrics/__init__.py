"""Concrete reward components (``openenv_harness.rubrics.<module>``), referenced from ``conf/rubric/*.yaml``.

In a checkout their source is the root ``rubrics/`` folder (this package's path points there); in the wheel
they are copied here at build time. See :mod:`openenv_harness._layout`.
"""

from openenv_harness._layout import checkout_folder

__path__ = [*checkout_folder("rubrics"), *__path__]
