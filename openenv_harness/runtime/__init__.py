"""openenv_harness.runtime (see DESIGN.md)."""
