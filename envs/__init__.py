"""Shipped environments, one folder each; installed as ``openenv_harness.envs`` (entry points name that).

Importing this folder as the top-level ``envs`` (the repository's own code and tests do) gives the very
modules of ``openenv_harness.envs``; see :mod:`openenv_harness._layout`.
"""

if __name__ == "envs":
    from openenv_harness._layout import alias_package

    alias_package("envs", "openenv_harness.envs")
