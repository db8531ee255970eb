"""Credentials in the config: read from an environment variable or a file, never written in the clear.

A token has three spellings, checked in this order of preference:

- ``runtime.token_env=NAME`` / ``server.token_env=NAME``: the value comes from the environment variable
  ``NAME`` (the config, and so every file written from it, holds only the name);
- ``runtime.token_file=PATH`` / ``server.token_file=PATH``: the value is the file's content, stripped;
- ``runtime.token=VALUE`` / ``server.token=VALUE`` (also ``${oc.env:NAME}``): accepted, and redacted.

:func:`apply_secrets` resolves them once, at the start of a job, into ``<group>.token`` of the in-memory config
(the only place code reads a token from); every writer of a config or record goes through :func:`redact`
(``run.json``, a bundle's ``config.yaml``) and Hydra's own ``.hydra/*.yaml`` are rewritten by
:class:`~openenv_harness.config._redact_hydra.RedactHydraFiles`. A mistake (a variable that is not set, a file
that does not exist, two spellings that disagree) is a :class:`ConfigError` naming the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

REDACTED = "***"
"""What a secret is written as."""

SECRET_GROUPS = ("runtime", "server")
"""Config groups that carry an orchestrator token (``<group>.token``, ``token_env``, ``token_file``)."""


class ConfigError(ValueError):
    """A config mistake found before anything starts; the message is one line that names the key."""


def _text(node: Any, key: str) -> str | None:
    """``node[key]`` as a string (interpolations resolved), or None when unset or empty."""
    if node is None or key not in node:
        return None
    try:
        value = node.get(key) if isinstance(node, DictConfig) else node[key]
    except Exception as exc:  # an ${oc.env:NAME} whose variable is unset, say
        raise ConfigError(
            f"{key}: cannot be resolved ({type(exc).__name__}: {str(exc).splitlines()[0]})"
        ) from exc
    return None if value is None or str(value) == "" else str(value)


def resolve_token(node: Any, group: str) -> str | None:
    """The token a ``runtime``/``server`` config node names, from wherever it says it is.

    Args:
        node: The group's config node (DictConfig or dict) with ``token``/``token_env``/``token_file``.
        group: The group's name, for error messages.

    Returns:
        The token, or None when the node names none.

    Raises:
        ConfigError: naming ``<group>.token_env``/``token_file`` when the variable or file is missing or
            empty, or ``<group>.token`` when two spellings give different values.
    """
    found: dict[str, str] = {}
    try:
        plain = _text(node, "token")
    except ConfigError as exc:
        raise ConfigError(f"{group}.{exc}") from None
    if plain is not None:
        found["token"] = plain
    var = _text(node, "token_env")
    if var is not None:
        value = os.environ.get(var, "")
        if not value:
            raise ConfigError(f"{group}.token_env: environment variable {var} is not set (or empty)")
        found["token_env"] = value
    path = _text(node, "token_file")
    if path is not None:
        try:
            value = Path(path).expanduser().read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{group}.token_file: cannot read {path}: {exc.strerror or exc}") from None
        if not value:
            raise ConfigError(f"{group}.token_file: {path} is empty")
        found["token_file"] = value
    if len(set(found.values())) > 1:
        raise ConfigError(f"{group}.token: {', '.join(f'{group}.{k}' for k in found)} give different tokens")
    return next(iter(found.values()), None)


def apply_secrets(cfg: DictConfig) -> list[str]:
    """Resolve every group's token into ``<group>.token`` of ``cfg`` (in memory only); idempotent.

    Returns:
        The secret values, for :func:`scrub` of free text.
    """
    secrets: list[str] = []
    for group in SECRET_GROUPS:
        node = cfg.get(group)
        if node is None:
            continue
        token = resolve_token(node, group)
        if token is not None:
            node.token = token
            secrets.append(token)
    return secrets


def secret_values(cfg: Any) -> list[str]:
    """The secret values a config carries (resolved where it can; unresolvable ones are skipped)."""
    out: list[str] = []
    for group in SECRET_GROUPS:
        node = cfg.get(group) if hasattr(cfg, "get") else None
        try:
            token = resolve_token(node, group) if node is not None else None
        except ConfigError:
            continue
        if token:
            out.append(token)
    return out


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every occurrence of a secret replaced by ``***``."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def _scrub_tree(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _scrub_tree(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_tree(v, secrets) for v in value]
    if isinstance(value, str):
        return scrub(value, secrets)
    return value


def redact(cfg: DictConfig) -> dict[str, Any]:
    """The config as a plain, resolved dict with every secret written as ``***``.

    ``<group>.token`` becomes ``***`` when set (``token_env``/``token_file`` stay: they are a name and a path),
    and any other string that contains a secret value is scrubbed too.
    """
    secrets = secret_values(cfg)
    plain = OmegaConf.to_container(cfg, resolve=False, enum_to_str=True)
    assert isinstance(plain, dict)
    for group in SECRET_GROUPS:
        node = plain.get(group)
        if isinstance(node, dict) and node.get("token") not in (None, ""):
            node["token"] = REDACTED
    # Resolve the rest only now, so an ${oc.env:...} token is never turned into its value on the way out.
    resolved = OmegaConf.to_container(OmegaConf.create(plain), resolve=True, enum_to_str=True)
    assert isinstance(resolved, dict)
    return _scrub_tree(resolved, secrets)


def redacted_yaml(cfg: DictConfig) -> str:
    """:func:`redact` as YAML (a bundle's ``config.yaml``)."""
    return OmegaConf.to_yaml(OmegaConf.create(redact(cfg)))
