"""Dataclass schemas of every config group; Hydra type-checks each value against them at composition.

YAML files under ``conf/`` only select and override these. Types are deliberately simple (OmegaConf supports
primitives, enums, ``Optional``, ``List``/``Dict`` and nested dataclasses, not unions of classes), so one
dataclass per group carries the fields of every variant and a ``kind`` enum picks the variant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Optional  # noqa: UP035 - OmegaConf needs typing.Optional/Dict/List, not X | None

from omegaconf import MISSING

from ._taskset import TasksetConfig

# ruff: noqa: UP006, UP007, UP045 - OmegaConf annotations must use Dict/List/Optional from typing


class Mode(StrEnum):
    """What ``python -m openenv_harness`` does."""

    train = "train"
    serve = "serve"
    validate = "validate"
    eval = "eval"
    verify = "verify"
    new_env = "new_env"
    """Scaffold a new environment (``name=NAME [dir=PATH]``)."""


class PolicyKind(StrEnum):
    """Which policy produces actions."""

    hf = "hf"
    """A local transformers model (the embedded SmolLM2-135M-Instruct by default)."""
    openai = "openai"
    """Any OpenAI-compatible chat-completions endpoint (vLLM, TGI, Ollama, ``serve-policy``)."""
    scripted = "scripted"
    """A per-environment deterministic baseline (for tests and sanity checks)."""


class LearnerKind(StrEnum):
    """What the train loop does with rollouts."""

    grpo = "grpo"
    """GRPO through TRL's ``GRPOTrainer``; rewards come from the env servers over the wire."""
    collect = "collect"
    """Only roll out and write trajectories (no weight updates)."""


class CreditKind(StrEnum):
    """How a multi-turn episode's reward is credited to the tokens of its turns (GRPO)."""

    episode = "episode"
    """Every turn's tokens share the episode's group-normalised return (the default)."""
    per_step = "per_step"
    """Each turn's tokens get the group-normalised return from that turn on, from the env's per-step credit
    (``metadata.step_credits`` of trajectory rubrics, else each step's reward)."""


class ScheduleKind(StrEnum):
    """Shape of a schedule over the training step."""

    constant = "constant"
    linear = "linear"
    cosine = "cosine"
    step = "step"
    exponential = "exponential"
    piecewise = "piecewise"


@dataclass
class EnvConfig:
    """Which environment to run (``conf/env/*.yaml``).

    Attributes:
        id: Registered environment id (``echo``, ``arith``, ``coding`` ...).
        kwargs: Constructor arguments of the environment (e.g. ``difficulty``).
        action_field: Action field that receives the model's text; None lets the harness's adapter for the
            env decide (or the first string field of the action schema).
        reset_kwargs: Extra keyword arguments of every ``reset`` (e.g. ``split``).
        max_turns: Turns per episode before the harness stops it (multi-turn envs).
        url: A running env server to use (``http://HOST:PORT``; ours or any OpenEnv app): sets
            ``runtime.provider=remote``, ``runtime.urls=[url]``. When the server is not one of our registered
            envs, the run drives it as a foreign env (untyped clients and the generic adapter from its
            ``/schema``; ``env.id`` becomes its ``/metadata`` name unless you give an unregistered id).
        version: A PEP 440 range (``">=0.1,<0.2"``) the env's version must satisfy (the class's ``version``,
            or each remote server's ``/metadata`` version); a run outside it is refused before it starts.
    """

    id: str = MISSING
    kwargs: dict[str, Any] = field(default_factory=dict)
    action_field: Optional[str] = None
    reset_kwargs: dict[str, Any] = field(default_factory=dict)
    max_turns: int = 8
    url: Optional[str] = None
    version: Optional[str] = None


@dataclass
class RubricConfig:
    """Reward config selection (``conf/rubric/*.yaml``).

    ``name: default`` keeps the environment's own rubric; ``weights`` and ``overrides`` are pushed to every env
    server with ``POST /config`` before training starts (``weights`` is merged into ``overrides.weights``).

    Attributes:
        name: Name of the rubric preset.
        _target_: Optional allow-listed import path of a rubric class (instantiated by the rubrics package).
        weights: Component weights to push (e.g. ``{format: 0.2}``).
        overrides: Any other partial reward config to push.
        params: Constructor arguments for ``_target_``.
    """

    name: str = "default"
    _target_: Optional[str] = None
    weights: dict[str, float] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScheduleSpec:
    """One scheduled value over the training step (see :mod:`openenv_harness.harness.schedules`).

    Attributes:
        kind: ``constant``, ``linear``, ``cosine``, ``step``, ``exponential`` or ``piecewise``.
        value: The constant's value.
        start: Value at step 0 (linear/cosine/step/exponential).
        end: Final value (linear/cosine; a floor/ceiling for exponential when set).
        steps: Steps over which linear/cosine move from ``start`` to ``end`` (then stay at ``end``).
        warmup: Steps held at ``start`` before the schedule begins.
        gamma: Multiplier per ``step_size`` steps (step) or per step (exponential).
        step_size: Steps between multiplications (step).
        milestones: Steps at which ``step`` multiplies by ``gamma`` (overrides ``step_size`` when given).
        points: ``[[step, value], ...]`` for piecewise-linear interpolation.
    """

    kind: ScheduleKind = ScheduleKind.constant
    value: Optional[float] = None
    start: Optional[float] = None
    end: Optional[float] = None
    steps: int = 0
    warmup: int = 0
    gamma: float = 1.0
    step_size: int = 1
    milestones: list[int] = field(default_factory=list)
    points: list[list[float]] = field(default_factory=list)


@dataclass
class ScheduleConfig:
    """Reward-shaping schedules (``conf/schedule/*.yaml``).

    Attributes:
        targets: Dotted path into the env's reward config (``weights.format``) -> schedule.
        push_every: Evaluate and push every N learner steps (1 = every step).
    """

    targets: dict[str, ScheduleSpec] = field(default_factory=dict)
    push_every: int = 1


@dataclass
class PolicyConfig:
    """The policy that acts (``conf/policy/*.yaml``).

    Attributes:
        kind: ``hf`` (local transformers model), ``openai`` (HTTP endpoint) or ``scripted``.
        model: Model name; ``smollm2-135m-instruct`` is the embedded default; for ``openai`` the served model.
        path: Local model folder (overrides ``model`` for ``hf``).
        base_url: ``openai``: endpoint base URL, e.g. ``http://127.0.0.1:8000/v1``.
        api_key_env: ``openai``: name of the environment variable holding the key (never the key itself).
        system_prompt: System message; None uses the env adapter's default.
        temperature: Sampling temperature; 0 means greedy (deterministic).
        top_p: Nucleus sampling.
        max_new_tokens: Generation budget per turn.
        seed: Sampling seed (greedy decoding does not need one).
        timeout_s: ``openai``: per-request timeout.
        batch_size: ``hf``: prompts generated together.
    """

    kind: PolicyKind = PolicyKind.hf
    model: str = "smollm2-135m-instruct"
    path: Optional[str] = None
    base_url: Optional[str] = None
    api_key_env: Optional[str] = None
    system_prompt: Optional[str] = None
    temperature: float = 0.7
    top_p: float = 1.0
    max_new_tokens: int = 48
    seed: int = 0
    timeout_s: float = 60.0
    batch_size: int = 16


@dataclass
class LearnerConfig:
    """The learner (``conf/learner/*.yaml``).

    Attributes:
        kind: ``grpo`` or ``collect``.
        max_steps: Learner steps (``collect``: rollout batches).
        group_size: Generations per GRPO group; every group shares one task and seed.
        groups_per_step: Distinct tasks (prompts) per step; the batch is ``groups_per_step * group_size``.
        num_tasks: Size of the training task pool (seeds drawn once from ``experiment.seed``).
        lr: Learning rate.
        beta: KL coefficient (0 disables the reference model, which saves memory and time).
        lora: Train LoRA adapters instead of the full model.
        lora_r: LoRA rank.
        lora_alpha: LoRA alpha.
        gradient_checkpointing: Trade compute for memory.
        save_model: Save the final weights (adapter for LoRA) into the run dir.
        log_every: Learner steps between TRL log records.
        credit: ``episode`` (every turn shares the episode's advantage) or ``per_step`` (reward-to-go from
            the env's per-step credit; see :class:`CreditKind`).
        curriculum: Draw each group's task with a curriculum sampler fed with every group's rewards (tasks
            whose groups carry no signal are drawn less); ``taskset.sampler=curriculum`` does the same for a
            taskset (see :mod:`openenv_harness.harness.plan`).
        normalize: Per-env reward normalisation before advantages: ``none``, ``running``, ``minmax``,
            ``percentile``, or ``auto`` (``running`` for a mixture, ``none`` for one env).
        checkpoint_every: Learner steps between checkpoints (``grpo``; 0 = none); a killed run started again
            in the same run dir continues from the last one (see :mod:`openenv_harness.harness.resume`).
        resume: Continue from the run dir's last checkpoint when there is one (False: start over).
    """

    kind: LearnerKind = LearnerKind.grpo
    max_steps: int = 8
    group_size: int = 4
    groups_per_step: int = 1
    num_tasks: int = 32
    lr: float = 1e-4
    beta: float = 0.0
    lora: bool = True
    lora_r: int = 16
    lora_alpha: int = 32
    gradient_checkpointing: bool = False
    save_model: bool = False
    log_every: int = 1
    credit: CreditKind = CreditKind.episode
    curriculum: bool = False
    normalize: str = "auto"
    checkpoint_every: int = 0
    resume: bool = True


@dataclass
class RuntimeConfig:
    """How env servers are run (``conf/runtime/*.yaml``).

    Attributes:
        provider: ``local`` (one process per server on loopback), ``inprocess``, ``docker``, ``remote`` or
            ``ray`` (servers as Ray actors across a cluster, see :class:`openenv_harness.runtime.RayProvider`).
        num_servers: Env servers to start (sessions are spread over them).
        sessions: Concurrent env sessions in the rollout pool.
        urls: ``remote``: base URLs of already-running servers.
        startup_timeout_s: Health wait per server.
        step_timeout_s: Per-step budget sent to the server.
        token: Orchestrator token for ``/config`` (None: no token); accepted, but written as ``***`` everywhere:
            prefer ``token_env`` or ``token_file`` (see :mod:`openenv_harness.config._secrets`).
        token_env: Name of an environment variable holding the orchestrator token.
        token_file: A file whose content (stripped) is the orchestrator token.
        options: Extra provider keyword arguments (e.g. docker image).
        target: The taskset's runtime target this runtime was set up for (set by the harness from the
            manifest, never by hand: kind, image/package/url, limits, secret names, and what the env said
            about itself); empty without a taskset. Recorded in run records and bundle manifests.
        replicas: ``ray``: env server actors (None: ``ceil(sessions / sessions_per_replica)`` when that is
            set, else ``num_servers``).
        sessions_per_replica: ``ray``: sessions one replica should hold (0: not used to size the pool).
        address: ``ray``: None starts a local Ray instance; ``auto`` or ``HOST:PORT`` joins a cluster.
        cpus_per_replica: ``ray``: CPUs reserved per replica (None: the taskset manifest's ``resources.cpus``,
            else 1).
        memory_per_replica: ``ray``: memory reserved per replica, ``512m``/``2g`` (None: the manifest's
            ``resources.memory``, else no reservation).
        replica_resources: ``ray``: custom Ray resources per replica (e.g. ``{env_host: 1}``).
    """

    provider: str = "local"
    num_servers: int = 1
    sessions: int = 8
    urls: list[str] = field(default_factory=list)
    startup_timeout_s: float = 60.0
    step_timeout_s: float = 30.0
    token: Optional[str] = None
    token_env: Optional[str] = None
    token_file: Optional[str] = None
    options: dict[str, Any] = field(default_factory=dict)
    target: dict[str, Any] = field(default_factory=dict)
    replicas: Optional[int] = None
    sessions_per_replica: int = 0
    address: Optional[str] = None
    cpus_per_replica: Optional[float] = None
    memory_per_replica: Optional[str] = None
    replica_resources: dict[str, float] = field(default_factory=dict)


@dataclass
class EvalConfig:
    """Evaluation (``conf/eval/*.yaml``; suites are added by the eval-bundle package).

    Attributes:
        name: Suite name (``none`` disables in-training eval).
        every_n_steps: In-training eval period in learner steps, for the held-out eval and the suite (0: only
            before and after training).
        num_tasks: Held-out tasks per eval.
        seed: Seed of the held-out task draw (disjoint from training seeds by construction).
        reset_kwargs: Extra reset arguments for eval episodes (e.g. ``split: test``).
        temperature: Eval decoding temperature (0 = greedy, deterministic).
        num_samples: Samples per task (pass@k).
        suite: Suite definition (``{name, evals: [...]}``, see :class:`openenv_harness.evals.EvalSpec`).
            ``mode=eval`` runs it (empty = the one eval of the configured env/taskset/rubric); train mode runs
            it on the model being trained before, every ``every_n_steps`` and after training, each time into
            a bundle under ``<run dir>/evals/`` (see :mod:`openenv_harness.harness.suite_eval`).
        out: Bundle directory ``mode=eval`` writes (default ``outputs/evals/<suite>-<identity>``, so re-running
            the same command resumes).
        bundle: An existing bundle to re-run (``mode=eval``) or to verify (``mode=verify``).
        limit: Cap on the number of tasks per eval.
        resume: Resume an interrupted eval run (False refuses a non-empty bundle dir).
    """

    name: str = "none"
    every_n_steps: int = 0
    num_tasks: int = 0
    seed: int = 1_000_003
    reset_kwargs: dict[str, Any] = field(default_factory=dict)
    temperature: float = 0.0
    num_samples: int = 1
    suite: dict[str, Any] = field(default_factory=dict)
    out: Optional[str] = None
    bundle: Optional[str] = None
    limit: Optional[int] = None
    resume: bool = True


@dataclass
class LoggerConfig:
    """Outputs of a run (``conf/logger/*.yaml``).

    Attributes:
        tensorboard: Write TensorBoard scalars under ``<run dir>/tb``.
        episodes: Write ``episodes.jsonl``.
        progress: Show a tqdm progress bar.
    """

    tensorboard: bool = True
    episodes: bool = True
    progress: bool = True


@dataclass
class ExperimentConfig:
    """Identity of a run (``conf/experiment/*.yaml`` are ``@package _global_`` override sets).

    Attributes:
        name: Name in the run record and the multirun summary.
        seed: Master seed (task draw, sampling, torch).
        tags: Free tags.
        notes: Free text.
    """

    name: str = "default"
    seed: int = 0
    tags: list[str] = field(default_factory=list)
    notes: str = ""


@dataclass
class ServerConfig:
    """``mode=serve``: one env server (``conf/server/*.yaml``).

    Attributes:
        host: Bind address (loopback unless told otherwise).
        port: TCP port (0 picks a free one; the chosen URL is printed).
        max_sessions: Session cap (``CAPACITY`` error beyond it).
        idle_timeout_s: Idle sessions are reaped after this many seconds.
        token: Orchestrator token guarding ``/config`` (written as ``***``; prefer ``token_env``/``token_file``).
        token_env: Name of an environment variable holding the token (default ``OPENENV_HARNESS_TOKEN``'s
            value is used when no spelling is given).
        token_file: A file whose content (stripped) is the token.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    max_sessions: int = 64
    idle_timeout_s: float = 300.0
    token: Optional[str] = None
    token_env: Optional[str] = None
    token_file: Optional[str] = None


@dataclass
class MixtureEntry:
    """One env of a mixture (``mixture: [{env: echo, weight: 1}, {env: arith, weight: 3}]``).

    ``env``, ``taskset``, ``rubric`` and ``schedule`` each take either the name of a file of that config group
    (``conf/env/echo.yaml``) or the group's fields inline; unset ones keep the run's own (``env``) or their
    defaults (``taskset``: none, ``rubric``: the env's own, ``schedule``: none).

    Attributes:
        env: Env group name or fields.
        taskset: Taskset group name or fields (None: the env's own generated tasks).
        rubric: Rubric group name or fields.
        schedule: Schedule group name or fields (its targets are pushed to this env's servers only).
        weight: Share of GRPO groups drawn from this env (normalised over the mixture).
        name: Name in logs and episodes (default: the env id; must be unique in the mixture).
    """

    env: Any = None
    taskset: Any = None
    rubric: Any = None
    schedule: Any = None
    weight: float = 1.0
    name: Optional[str] = None


@dataclass
class Config:
    """The root config of ``python -m openenv_harness``.

    Attributes:
        name: ``mode=new_env``: the new environment's id (also its folder and package name).
        dir: ``mode=new_env``: the folder to create it in (default: this checkout's ``envs/``).
    """

    mode: Mode = Mode.train
    env: EnvConfig = field(default_factory=EnvConfig)
    rubric: RubricConfig = field(default_factory=RubricConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    taskset: TasksetConfig = field(default_factory=TasksetConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    learner: LearnerConfig = field(default_factory=LearnerConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    mixture: list[MixtureEntry] = field(default_factory=list)
    name: Optional[str] = None
    dir: Optional[str] = None
