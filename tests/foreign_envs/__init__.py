"""Environments written against OpenEnv's public API (not ours), served by OpenEnv's ``create_app``.

They are test fixtures in the style of OpenEnv's own envs (``connect4_env``, ``reasoning_gym_env``): the
harness must drive them by configuration alone. Serve one with
``uvicorn tests.foreign_envs.column_app:app`` (needs the ``openenv`` test dependency).
"""
