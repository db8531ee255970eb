"""The ``grpo`` learner: TRL's ``GRPOTrainer`` with rewards from the env servers over the wire.

* The dataset has one row per training task: the chat prompt built from the env's first observation for
  that task's seed, plus the row index. TRL repeats each prompt ``group_size`` times, so each GRPO group is
  one task and one seed.
* The reward function sends every completion as the action of a fresh episode reset with its row's seed
  (concurrently, through the session pool) and returns the observation's reward; reward components,
  weights and ``config_version`` go to TensorBoard and ``episodes.jsonl``. GRPO here is single-turn: the
  first completion is the action (multi-turn envs are scored on their first step).
* A ``TrainerCallback.on_step_begin`` evaluates the schedules and pushes them to every server before the
  step's generation, so a step's rewards use that step's weights (``steps_per_generation`` is 1).
* The TRL settings that matter on CPU (FACTS.md): ``use_cpu=True``, ``bf16=False``.
"""

from __future__ import annotations

import math
import time
from typing import Any

from .policies import HFPolicy
from .rollout import Episode, Task, first_observations, score_actions
from .suite_eval import due_during_training, run_suite_eval, suite_configured
from .train import TrainContext, step_metrics


def _completion_text(completion: Any) -> str:
    if isinstance(completion, list):  # conversational: [{"role": "assistant", "content": ...}]
        return str(completion[-1].get("content", "")) if completion else ""
    return str(completion)


def check_config(cfg: Any) -> None:
    """Refuse GRPO settings that cannot work, before any server or model starts.

    Raises:
        ValueError: naming the field (policy.kind, policy.temperature, learner.group_size).
    """
    if str(getattr(cfg.policy.kind, "value", cfg.policy.kind)) != "hf":
        raise ValueError("learner=grpo trains a local model: use policy.kind=hf (or learner=collect)")
    if cfg.policy.temperature <= 0:
        raise ValueError(
            "learner=grpo samples a group per task: policy.temperature must be > 0 (eval stays greedy)"
        )
    if int(cfg.learner.group_size) < 2:
        raise ValueError("learner.group_size must be >= 2 for GRPO (advantages are relative within a group)")


def run_grpo(ctx: TrainContext) -> dict[str, Any]:
    """Train with GRPO; evaluate before/after when ``eval.num_tasks > 0``. Returns ``ctx.metrics``."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from ._model_cache import resolve_model_path

    cfg, rt, adapter, logger = ctx.cfg, ctx.runtime, ctx.adapter, ctx.logger
    lcfg, pcfg = cfg.learner, cfg.policy
    check_config(cfg)
    g = int(lcfg.group_size)

    path = resolve_model_path(pcfg.model, pcfg.path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)

    system = pcfg.system_prompt or adapter.system_prompt
    tasks = ctx.train_tasks()
    firsts = rt.run(first_observations(rt, tasks))
    rows, prompts_seen = [], set()
    for i, obs in enumerate(firsts):
        text = adapter.render({k: v for k, v in obs.items() if not k.startswith("_")})
        prompts_seen.add(text)
        rows.append(
            {"prompt": [{"role": "system", "content": system}, {"role": "user", "content": text}], "row": i}
        )
    dataset = Dataset.from_list(rows)
    eval_tasks = ctx.heldout_tasks(prompts_seen)
    ctx.metrics["eval_tasks"] = len(eval_tasks)
    ctx.metrics["train_prompts_distinct"] = len(prompts_seen)

    def policy_of(m: Any, pc: Any, temperature: float, step: int | None = None) -> HFPolicy:
        """The model being trained as a policy with ``pc``'s sampling (an eval's, or the learner's)."""
        return HFPolicy(
            model=m,
            tokenizer=tokenizer,
            temperature=temperature,
            top_p=float(pc.top_p),
            max_new_tokens=int(pc.max_new_tokens),
            seed=int(pc.seed),
            batch_size=int(pc.batch_size),
            description=None
            if step is None
            else {"model": f"{path} (trained in {ctx.run_dir}, step {step})", "trained_steps": step},
        )

    def eval_policy(m: Any) -> HFPolicy:
        return policy_of(m, pcfg, float(cfg.eval.temperature))

    def suite_policy(m: Any, step: int) -> Any:
        """Factory of the in-training suite's policy: the model as trained so far, the eval's sampling."""
        return lambda pc, _adapter: policy_of(m, pc, float(pc.temperature), step)

    suite = suite_configured(cfg)
    if eval_tasks:
        ctx.evaluate(eval_policy(model), eval_tasks, 0, "before")
    if suite:
        run_suite_eval(ctx, 0, suite_policy(model, 0))

    clock: dict[str, float] = {"t": time.monotonic()}

    def env_reward(prompts: list[Any], completions: list[Any], row: list[int], **kw: Any) -> list[float]:
        step = int(kw["trainer_state"].global_step)
        texts = [_completion_text(c) for c in completions]
        items = [
            (tasks[r], _completion_text(p[-1:]) if isinstance(p, list) else str(p), t, adapter.to_action(t))
            for p, t, r in zip(prompts, texts, row, strict=True)
        ]
        t0 = time.monotonic()
        results = rt.run(score_actions(rt, items))
        eps: list[Episode] = []
        for i, ((task, _, _, _), (turn, err)) in enumerate(zip(items, results, strict=True)):
            ep = Episode(seed=task.seed, step=step, group=i // g, phase="train", error=err)
            if turn is not None:
                ep.turns.append(turn)
                ep.reward, ep.done = float(turn.reward or 0.0), turn.done
            eps.append(ep)
        logger.episodes(eps)
        logger.reward_breakdown(eps, step, str(cfg.env.id))
        scalars = step_metrics(eps, g)
        gen_s = t0 - clock["t"]
        scalars["rollout/env_seconds"] = time.monotonic() - t0
        scalars["rollout/completions_per_s"] = len(eps) / max(1e-9, time.monotonic() - clock["t"])
        scalars["rollout/generation_seconds"] = gen_s
        versions = [
            e.turns[0].config_version for e in eps if e.turns and e.turns[0].config_version is not None
        ]
        if versions:
            scalars["config/observed_version"] = float(max(versions))
        for name, w in (eps[0].turns[0].weights if eps and eps[0].turns else {}).items():
            scalars[f"config/observed_weight/{name}"] = w
        logger.scalars(scalars, step)
        return [e.reward for e in eps]

    class HarnessCallback(TrainerCallback):  # type: ignore[misc]
        """Push schedules before each step's generation; mirror TRL's logs into our TensorBoard."""

        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            ctx.apply_schedules(int(state.global_step))
            clock["t"] = time.monotonic()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            step = int(state.global_step)
            ctx.metrics["steps"] = step
            every = int(cfg.eval.every_n_steps)
            if eval_tasks and every > 0 and step % every == 0 and step < lcfg.max_steps:
                ctx.evaluate(eval_policy(trainer.model), eval_tasks, step, f"step{step}")
            if suite and due_during_training(cfg, step):
                run_suite_eval(ctx, step, suite_policy(trainer.model, step))

        def on_log(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            logs = kwargs.get("logs") or {}
            vals = {
                f"learner/{k}": float(v)
                for k, v in logs.items()
                if isinstance(v, int | float) and math.isfinite(float(v))
            }
            logger.scalars(vals, max(0, int(state.global_step) - 1))  # TRL logs after the step it describes

    peft_config = None
    if lcfg.lora:
        from peft import LoraConfig

        peft_config = LoraConfig(
            r=int(lcfg.lora_r),
            lora_alpha=int(lcfg.lora_alpha),
            lora_dropout=0.0,
            target_modules="all-linear",
            task_type="CAUSAL_LM",
        )
    args = GRPOConfig(
        output_dir=str(ctx.run_dir / "trainer"),
        max_steps=int(lcfg.max_steps),
        per_device_train_batch_size=int(lcfg.groups_per_step) * g,
        num_generations=g,
        learning_rate=float(lcfg.lr),
        beta=float(lcfg.beta),
        max_completion_length=int(pcfg.max_new_tokens),
        temperature=float(pcfg.temperature),
        top_p=float(pcfg.top_p),
        bf16=False,
        use_cpu=True,
        report_to="none",
        logging_steps=int(lcfg.log_every),
        save_strategy="no",
        activation_checkpointing=bool(lcfg.gradient_checkpointing),  # TRL defaults it on; off is faster here
        seed=int(cfg.experiment.seed),
        data_seed=int(cfg.experiment.seed),
        disable_tqdm=not cfg.logger.progress,
        dataloader_num_workers=0,
    )
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=env_reward,  # type: ignore[arg-type]
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[HarnessCallback()],
    )
    trainer.train()
    ctx.metrics["steps"] = int(trainer.state.global_step)
    if eval_tasks:
        ctx.evaluate(eval_policy(trainer.model), eval_tasks, int(trainer.state.global_step), "after")
    if suite:
        done_steps = int(trainer.state.global_step)
        run_suite_eval(ctx, done_steps, suite_policy(trainer.model, done_steps))
    if lcfg.save_model:
        trainer.save_model(str(ctx.run_dir / "model"))
    ctx.metrics["policy"] = {"name": "hf", "model": path, "trained_steps": int(trainer.state.global_step)}
    ctx.metrics["last"] = dict(logger.last)
    return ctx.metrics


__all__ = ["Task", "run_grpo"]
