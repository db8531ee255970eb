"""The ``environment.yaml`` manifest at a taskset's root: schema and parse-time validation.

A manifest declares which environments run the dataset's rows. Only the ``frameworks.openenv`` block is read
by this framework; other frameworks' blocks (``verifiers``, ``harbor``, ...) are kept verbatim and never
executed. Every problem is reported as a :class:`ManifestIssue` naming the file, the environment id and the
dotted field, and all issues of a file are reported at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

MANIFEST_NAME = "environment.yaml"
SUPPORTED_SPEC_VERSIONS = ("hf-rl-env-0.1",)
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
"""Environment ids: lowercase slugs (no ``/``, ``@`` or ``#``, which delimit references), at most 64 chars."""
SECRET_PATTERN = re.compile(r"^[A-Z_][A-Z0-9_]*$")
RUNTIME_TARGETS = ("image", "package", "space_id")
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)$", re.IGNORECASE)


def parse_memory(value: int | str) -> int:
    """Bytes from ``512m``, ``1g``, ``2GiB`` or a plain integer (powers of 1024, like Docker's ``mem_limit``)."""
    if isinstance(value, int):
        return value
    m = _MEMORY.match(value.strip())
    if not m:
        raise ValueError(f"cannot read memory size {value!r} (use e.g. 512m, 2g or a number of bytes)")
    scale = 1024 ** "bkmgt".index((m.group(2) or "b").lower())
    return int(float(m.group(1)) * scale)


class Resources(BaseModel):
    """Limits for the environment's runtime; mapped onto provider limits by ``runtime_for``.

    Attributes:
        cpus: CPU share (Docker ``nano_cpus`` = cpus * 1e9).
        memory: Memory limit, ``512m``/``2g``/bytes.
        pids: Maximum number of processes.
        timeout: Per-step wall-clock budget in seconds.
    """

    model_config = ConfigDict(extra="forbid")

    cpus: float | None = Field(default=None, gt=0)
    memory: int | str | None = None
    pids: int | None = Field(default=None, gt=0)
    timeout: float | None = Field(default=None, gt=0)

    @field_validator("memory")
    @classmethod
    def _memory(cls, v: int | str | None) -> int | str | None:
        if v is not None and parse_memory(v) <= 0:
            raise ValueError("must be positive")
        return v


class OpenEnvBlock(BaseModel):
    """The ``frameworks.openenv`` block: how this framework runs the environment.

    Attributes:
        min_version: Oldest ``openenv_harness`` version that can run it.
        image: A container image (runs through the Docker provider).
        package: A pip requirement (``name`` or ``name==1.2``) whose ``openenv_harness.envs`` entry point
            ``env`` is the environment; installing/importing it requires ``trust_remote_code=True`` unless it
            is ``openenv-harness`` itself.
        env: The registered environment id inside ``package`` (defaults to the manifest environment's id).
        space_id: A Hugging Face Space ``owner/name`` serving the environment.
        hidden_columns: Ground-truth columns: given to the rubric only, never to the agent.
        resources: Runtime limits.
        secrets: Names of environment variables the runtime needs (values never appear in files).
    """

    model_config = ConfigDict(extra="forbid")

    min_version: str = "0.1.0"
    image: str | None = None
    package: str | None = None
    env: str | None = None
    space_id: str | None = None
    hidden_columns: list[str] = Field(default_factory=list)
    resources: Resources = Field(default_factory=Resources)
    secrets: list[str] = Field(default_factory=list)

    @field_validator("min_version")
    @classmethod
    def _version(cls, v: str) -> str:
        try:
            Version(v)
        except InvalidVersion:
            raise ValueError(f"{v!r} is not a version (e.g. 0.1.0)") from None
        return v

    @field_validator("hidden_columns")
    @classmethod
    def _hidden(cls, v: list[str]) -> list[str]:
        control = sorted(set(v) & {"openenv_reset", "openenv_step", "task"})
        if control:
            raise ValueError(f"{control} hold what the agent sees; they cannot be hidden columns")
        if len(set(v)) != len(v):
            raise ValueError("hidden column names must be unique")
        return v

    @field_validator("space_id")
    @classmethod
    def _space(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*", v):
            raise ValueError(f"{v!r} is not a Space id (owner/name)")
        return v

    @field_validator("secrets")
    @classmethod
    def _secrets(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if not SECRET_PATTERN.match(s)]
        if bad:
            raise ValueError(f"secret names must be environment variable names (A-Z, 0-9, _): {bad}")
        if len(set(v)) != len(v):
            raise ValueError("secret names must be unique")
        return v

    @model_validator(mode="after")
    def _one_target(self) -> OpenEnvBlock:
        given = [t for t in RUNTIME_TARGETS if getattr(self, t)]
        if len(given) != 1:
            raise ValueError(
                f"exactly one runtime target of image, package, space_id is required; got "
                f"{', '.join(given) or 'none'}"
            )
        if self.env is not None and self.package is None:
            raise ValueError("'env' only applies to a package target")
        return self

    @property
    def target(self) -> str:
        """Which runtime target is set: ``image``, ``package`` or ``space_id``."""
        return next(t for t in RUNTIME_TARGETS if getattr(self, t))


class Frameworks(BaseModel):
    """Per-framework blocks; only ``openenv`` is read, the others are kept as given."""

    model_config = ConfigDict(extra="allow")

    openenv: OpenEnvBlock


class EnvironmentEntry(BaseModel):
    """One environment a taskset declares.

    Attributes:
        id: Stable slug; the ``{environment_id}`` of ``hf://datasets/{repo}/{environment_id}@{rev}``.
        title: Human-readable name.
        description: What the environment asks of the agent.
        config_name: The dataset config (README ``configs:`` block) whose splits hold the rows.
        splits: Splits this environment uses; each must exist in the data.
        frameworks: Per-framework runtime blocks (``openenv`` required).
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str = ""
    description: str = ""
    config_name: str | None = None
    splits: list[str] = Field(min_length=1)
    frameworks: Frameworks

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not ID_PATTERN.match(v):
            raise ValueError(
                f"{v!r} is not a valid id (lowercase letters, digits, '.', '_', '-'; at most 64; no '/', '@', '#')"
            )
        return v

    @property
    def openenv(self) -> OpenEnvBlock:
        """The ``frameworks.openenv`` block."""
        return self.frameworks.openenv


class Manifest(BaseModel):
    """A parsed ``environment.yaml``."""

    model_config = ConfigDict(extra="forbid")

    spec_version: str
    environments: list[EnvironmentEntry] = Field(min_length=1)

    @field_validator("spec_version", mode="before")
    @classmethod
    def _spec(cls, v: Any) -> str:
        if str(v) not in SUPPORTED_SPEC_VERSIONS:
            raise ValueError(
                f"unsupported spec_version {v!r}; supported: {', '.join(SUPPORTED_SPEC_VERSIONS)}"
            )
        return str(v)

    def entry(self, env_id: str | None) -> EnvironmentEntry:
        """The environment with id ``env_id`` (or the only one when ``env_id`` is None)."""
        ids = [e.id for e in self.environments]
        if env_id is None:
            if len(ids) == 1:
                return self.environments[0]
            raise KeyError(f"the taskset declares several environments ({', '.join(ids)}); name one")
        for e in self.environments:
            if e.id == env_id:
                return e
        raise KeyError(f"no environment {env_id!r} in the manifest; it declares: {', '.join(ids)}")


@dataclass(frozen=True)
class ManifestIssue:
    """One problem in a manifest: where it is and what is wrong."""

    file: str
    env_id: str | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"environment {self.env_id!r}" if self.env_id else "manifest"
        return f"{self.file}: {where}: {self.field}: {self.message}"


class ManifestError(ValueError):
    """A manifest failed validation; ``issues`` lists every problem found."""

    def __init__(self, issues: list[ManifestIssue]) -> None:
        self.issues = issues
        super().__init__("invalid taskset manifest:\n" + "\n".join(f"  - {i}" for i in issues))


def _env_id_at(raw: Any, loc: tuple[Any, ...]) -> tuple[str | None, tuple[Any, ...]]:
    """Split a pydantic error location into (environment id, field path below the environment)."""
    if len(loc) >= 2 and loc[0] == "environments" and isinstance(loc[1], int):
        envs = raw.get("environments") if isinstance(raw, dict) else None
        item = envs[loc[1]] if isinstance(envs, list) and loc[1] < len(envs) else None
        env_id = item.get("id") if isinstance(item, dict) else None
        return (str(env_id) if env_id is not None else f"#{loc[1]}"), loc[2:]
    return None, loc


def parse_manifest(raw: Any, file: str) -> Manifest:
    """Validate an already-loaded manifest mapping.

    Args:
        raw: The YAML document.
        file: Name used in messages.

    Raises:
        ManifestError: listing every problem with file, environment id and field.
    """
    if not isinstance(raw, dict):
        raise ManifestError(
            [ManifestIssue(file, None, "<root>", "must be a mapping with spec_version, environments")]
        )
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            env_id, rest = _env_id_at(raw, tuple(err["loc"]))
            field = ".".join(str(p) for p in rest) or "<entry>"
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown field"
            issues.append(ManifestIssue(file, env_id, field, msg))
        raise ManifestError(issues) from None
    seen: set[str] = set()
    dupes = [e.id for e in manifest.environments if e.id in seen or seen.add(e.id)]  # type: ignore[func-returns-value]
    if dupes:
        raise ManifestError([ManifestIssue(file, d, "id", "duplicate environment id") for d in dupes])
    return manifest


def load_manifest(root_or_file: str | Path) -> Manifest:
    """Read and validate ``environment.yaml`` (given the file or the taskset folder).

    Raises:
        ManifestError: when the file is missing, not YAML, or invalid.
    """
    path = Path(root_or_file)
    if path.is_dir():
        path = path / MANIFEST_NAME
    if not path.is_file():
        raise ManifestError(
            [ManifestIssue(str(path), None, "<file>", f"no {MANIFEST_NAME} at the taskset root")]
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ManifestError([ManifestIssue(str(path), None, "<file>", f"not valid YAML: {exc}")]) from None
    return parse_manifest(raw, str(path))
