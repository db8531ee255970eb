"""openenv_harness.server (see DESIGN.md)."""
