"""openenv_harness.tasks (see DESIGN.md)."""
