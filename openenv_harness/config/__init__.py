"""openenv_harness.config (see DESIGN.md)."""
