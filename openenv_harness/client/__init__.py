"""openenv_harness.client (see DESIGN.md)."""
