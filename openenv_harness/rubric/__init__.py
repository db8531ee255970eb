"""openenv_harness.rubric (see DESIGN.md)."""
