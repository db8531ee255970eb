"""Scaffolding: ``python -m openenv_harness mode=new_env name=NAME [dir=PATH]`` writes a new environment.

Example::

    from openenv_harness.scaffold import new_env
    made = new_env("word_flip", dir="/tmp/my_envs")
    print(made.next_steps())
"""

from ._new_env import Scaffold, ScaffoldError, check_name, class_prefix, new_env

__all__ = ["Scaffold", "ScaffoldError", "check_name", "class_prefix", "new_env"]
