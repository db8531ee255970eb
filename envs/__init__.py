"""Shipped environments, one folder each (registered through ``openenv_harness.envs`` entry points)."""
