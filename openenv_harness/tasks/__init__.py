"""Tasksets: datasets that declare which environment runs their rows (DESIGN.md §5).

A taskset is a folder (local, or a hub dataset repo) with ``environment.yaml`` at its root and data files
that ``datasets`` can load (parquet/jsonl per split, ideally named in a README ``configs:`` block)::

    spec_version: hf-rl-env-0.1
    environments:
      - id: arith                     # stable slug; never renamed
        splits: [train, test]         # must exist in the data
        config_name: default          # README configs: block
        frameworks:
          openenv:
            min_version: "0.1.0"
            package: openenv-harness  # exactly one of image | package | space_id
            env: arith                # entry point in the package's `openenv_harness.envs` group
            hidden_columns: [answer]  # ground truth: rubric only, never shown to the agent
            resources: {cpus: 1, memory: 512m, pids: 64, timeout: 30}
            secrets: [MY_API_KEY]     # names only; values from environment variables
          verifiers: {...}            # other frameworks: kept, never executed

Decisions:

* **References**: ``hf://datasets/ORG/NAME/ENV_ID@REVISION`` (``/ENV_ID`` optional for single-environment
  manifests, ``@REVISION`` defaults to ``main`` and is recorded as the commit sha), or a local folder
  ``path`` / ``path#ENV_ID`` (relative paths: working directory, then the project root).
* **package targets**: ``package`` is a pip requirement; ``env`` names the environment id the package
  registers under the ``openenv_harness.envs`` entry-point group (default: the manifest id). The
  ``openenv-harness`` distribution itself is trusted (it is the code already running); any other package
  needs ``trust_remote_code=True`` and is installed into an isolated venv for its server processes only
  (never into, or imported by, this interpreter). An ``image`` not built by this project needs it too.
* **Ground truth**: declared per environment in ``frameworks.openenv.hidden_columns``. Rows become
  :class:`Task` objects whose ``reset_kwargs`` come from the ``openenv_reset`` column, else ``task``, else the
  row minus hidden and control columns; ``hidden`` holds the ground truth for the rubric.
* **Seed -> row**: ``index`` if given, else ``order[seed % n]`` with a fixed sha256-based row order (see
  :func:`row_for_seed`): fair over consecutive seeds, stable across Python versions.
* The task binds at reset; steps never move a cursor.

Public API: :func:`resolve`, :class:`ResolvedTaskset`, :class:`TaskSource`, :class:`Task`,
:func:`check_no_leak`, :func:`runtime_for`, the samplers, :func:`validate_taskset` / :func:`main_validate`
(also ``python -m openenv_harness.tasks validate REF``) and :class:`TasksetConfig`.
"""

from ._config import TasksetConfig
from ._leak import LeakError, assert_no_leak, check_no_leak
from ._manifest import (
    MANIFEST_NAME,
    EnvironmentEntry,
    Manifest,
    ManifestError,
    ManifestIssue,
    OpenEnvBlock,
    Resources,
    load_manifest,
    parse_manifest,
)
from ._resolve import (
    ResolvedTaskset,
    TasksetError,
    TasksetRef,
    content_hash,
    parse_ref,
    resolve,
    resolve_shared,
)
from ._runtime import RuntimeTarget, SecretValues, read_secrets, runtime_for, space_url
from ._samplers import (
    CurriculumSampler,
    Draw,
    Sampler,
    SequentialSampler,
    UniformSampler,
    derive_seed,
    make_sampler,
    sampler_for,
)
from ._source import Task, TaskSource, row_for_seed
from ._validate import Report, main_validate, validate_taskset

__all__ = [
    "CurriculumSampler",
    "Draw",
    "Report",
    "Sampler",
    "SequentialSampler",
    "UniformSampler",
    "derive_seed",
    "main_validate",
    "make_sampler",
    "validate_taskset",
    "MANIFEST_NAME",
    "EnvironmentEntry",
    "LeakError",
    "Manifest",
    "ManifestError",
    "ManifestIssue",
    "OpenEnvBlock",
    "ResolvedTaskset",
    "Resources",
    "RuntimeTarget",
    "SecretValues",
    "Task",
    "TaskSource",
    "TasksetConfig",
    "TasksetError",
    "TasksetRef",
    "assert_no_leak",
    "check_no_leak",
    "content_hash",
    "load_manifest",
    "parse_manifest",
    "parse_ref",
    "read_secrets",
    "resolve",
    "resolve_shared",
    "row_for_seed",
    "sampler_for",
    "runtime_for",
    "space_url",
]
