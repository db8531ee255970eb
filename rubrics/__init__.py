"""Concrete reward components; installed as ``openenv_harness.rubrics`` (``conf/rubric/*.yaml`` names that).

Importing this folder as the top-level ``rubrics`` (the repository's own code and tests do) gives the very
modules of ``openenv_harness.rubrics``; see :mod:`openenv_harness._layout`.
"""

if __name__ == "rubrics":
    from openenv_harness._layout import alias_package

    alias_package("rubrics", "openenv_harness.rubrics")
