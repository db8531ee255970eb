"""A Hydra callback that rewrites the files Hydra saves itself so that no token is left in them.

Hydra writes ``.hydra/config.yaml``, ``hydra.yaml`` and ``overrides.yaml`` into every job dir (and
``multirun.yaml`` into a sweep dir) before our code runs, from the config and the command line as given: a
``runtime.token=VALUE`` override lands in all of them. The callback runs right after (``on_job_start``; for
``multirun.yaml`` also at ``on_multirun_end``) and rewrites each file with the token fields as ``***`` and
every ``<group>.token=VALUE`` override as ``<group>.token=***``, then scrubs any remaining occurrence of a
secret value. ``${oc.env:NAME}`` stays an interpolation in these files (Hydra saves them unresolved), so only
literal values need this; ``runtime.token_env=NAME`` never puts a value there at all.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from ._secrets import REDACTED, SECRET_GROUPS, scrub, secret_values

_GROUPS = "|".join(SECRET_GROUPS)
_OVERRIDE = re.compile(rf"^(?P<key>[+~]{{0,2}}(?:{_GROUPS})\.token)=(?P<value>.*)$")
"""A command-line override that sets a token (``runtime.token=...``, ``+server.token=...``)."""

_TOKEN_LINE = re.compile(r"^(?P<indent>\s*)token:\s*(?P<value>\S.*)$")
"""A ``token: VALUE`` line of a saved YAML file (interpolations are kept, literals redacted)."""


def redact_override(override: str) -> str:
    """``runtime.token=VALUE`` -> ``runtime.token=***``; other overrides unchanged."""
    m = _OVERRIDE.match(override)
    return f"{m.group('key')}={REDACTED}" if m else override


def override_values(overrides: list[str]) -> list[str]:
    """Token values given as command-line overrides (to scrub wherever Hydra copied them)."""
    out = []
    for o in overrides:
        m = _OVERRIDE.match(o)
        if m and m.group("value") not in ("", "null") and not m.group("value").startswith("${"):
            out.append(m.group("value"))
    return out


def redact_text(text: str, secrets: list[str]) -> str:
    """A saved Hydra YAML file with literal ``token:`` values and every secret value written as ``***``."""
    lines = []
    for line in text.splitlines():
        m = _TOKEN_LINE.match(line)
        value = m.group("value").strip("'\"") if m else ""
        if m and value not in ("null", "", REDACTED) and not value.startswith("${"):
            line = f"{m.group('indent')}token: '{REDACTED}'"
        for secret in secrets:  # overrides lists and override_dirname hold `runtime.token=VALUE`
            line = line.replace(f".token={secret}", f".token={REDACTED}")
        lines.append(line)
    return scrub("\n".join(lines) + ("\n" if text.endswith("\n") else ""), secrets)


def redact_dir(folder: Path, secrets: list[str]) -> None:
    """Rewrite every ``*.yaml`` directly in ``folder`` through :func:`redact_text` (when it changes)."""
    for path in sorted(folder.glob("*.yaml")):
        text = path.read_text()
        clean = redact_text(text, secrets)
        if clean != text:
            path.write_text(clean)


def _secrets_of(config: DictConfig) -> list[str]:
    overrides = [str(o) for o in (config.hydra.overrides.get("task") or [])]
    return sorted(set(secret_values(config)) | set(override_values(overrides)), key=len, reverse=True)


class RedactHydraFiles(Callback):
    """Redact tokens in ``.hydra/*.yaml`` and ``multirun.yaml`` (registered in ``conf/config.yaml``)."""

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Rewrite the job's ``.hydra`` files (Hydra has just saved them)."""
        secrets = _secrets_of(config)
        subdir = config.hydra.get("output_subdir")
        if subdir is not None:
            redact_dir(Path(str(config.hydra.runtime.output_dir)) / str(subdir), secrets)
        sweep = config.hydra.get("sweep")
        if sweep is not None and str(config.hydra.get("mode")) == "RunMode.MULTIRUN":
            redact_dir(Path(str(sweep.dir)), secrets)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Rewrite the sweep dir's ``multirun.yaml`` once more (written after the first job started)."""
        redact_dir(Path(str(config.hydra.sweep.dir)), _secrets_of(config))
