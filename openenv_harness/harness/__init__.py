"""openenv_harness.harness (see DESIGN.md)."""
