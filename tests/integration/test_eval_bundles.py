"""End-to-end eval bundles through the real CLI: write, verify, drift detection, resume after SIGKILL."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "openenv_harness", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"exit {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
        )
    return proc


def scrub(records: list[dict]) -> list[dict]:
    """Episode records without wall-clock timings (the only field that may differ between runs)."""
    out = []
    for r in records:
        r = dict(r)
        r.pop("timings", None)
        out.append(r)
    return sorted(out, key=lambda r: (r["eval"], r["task_id"], r["sample"]))


def read_episodes(bundle: Path) -> list[dict]:
    return [json.loads(line) for line in (bundle / "episodes.jsonl").read_text().splitlines() if line.strip()]


@pytest.fixture()
def arith_taskset(tmp_path: Path) -> Path:
    dst = tmp_path / "arith_ts"
    shutil.copytree(ROOT / "tasksets" / "arith", dst)
    return dst


BASE = ("env=arith", "policy=scripted", "runtime=inprocess", "eval.limit=12")


def test_bundle_verify_and_drift(tmp_path: Path, arith_taskset: Path) -> None:
    bundle = tmp_path / "bundle"
    out = cli("mode=eval", *BASE, f"taskset.ref={arith_taskset}", f"eval.out={bundle}", cwd=tmp_path)
    assert f"bundle: {bundle}" in out.stdout
    for name in (
        "suite.yaml",
        "config.yaml",
        "manifest.json",
        "episodes.jsonl",
        "results.json",
        "report.html",
    ):
        assert (bundle / name).is_file(), name
    results = json.loads((bundle / "results.json").read_text())
    arith = results["evals"]["arith"]
    assert arith["n_episodes"] == 12 and arith["error_rate"] == 0.0
    assert arith["reproducible"] is True
    assert set(arith["components"]) == {"correct", "format"}
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["datasets"]["arith"]["content_hash"].startswith("sha256:")
    assert manifest["policy"]["name"] == "scripted"
    assert manifest["packages"]["pydantic"]
    assert len(read_episodes(bundle)) == 12

    ok = cli("mode=verify", f"eval.bundle={bundle}", cwd=tmp_path)
    assert "no differences" in ok.stdout

    # A rubric weight changed: verify fails and names the weight (identity) and the moved rewards (results).
    drift = cli(
        "mode=verify", f"eval.bundle={bundle}", "+rubric.weights.format=0.5", cwd=tmp_path, check=False
    )
    assert drift.returncode == 1, drift.stdout + drift.stderr
    assert "environments.arith.reward_config.weights.format" in drift.stdout
    assert "evals.arith.reward_mean" in drift.stdout

    # A dataset row changed: the content hash names it.
    import pyarrow.parquet as pq

    test_file = next(arith_taskset.rglob("test*.parquet"))
    table = pq.read_table(test_file).to_pylist()
    table[0]["question"] = table[0]["question"].replace("+", "+ 1 +", 1)
    import pyarrow as pa

    pq.write_table(pa.Table.from_pylist(table), test_file)
    drift = cli("mode=verify", f"eval.bundle={bundle}", cwd=tmp_path, check=False)
    assert drift.returncode == 1
    assert "datasets.arith.content_hash" in drift.stdout


RESUME_ARGS = (
    "mode=eval",
    "env=arith",
    "policy=scripted",
    "runtime=local",
    "runtime.sessions=1",
    "eval.num_tasks=40",
)


def _start_eval_until(out: Path, cwd: Path, episodes: int, **popen: Any) -> subprocess.Popen:
    """Start the 40-task eval into ``out`` and return once ``episodes`` episodes are logged."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "openenv_harness", *RESUME_ARGS, f"eval.out={out}"],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        **popen,
    )
    log = out / "episodes.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (
        log.exists() and len(log.read_text().splitlines()) >= episodes
    ):
        time.sleep(0.02)
    return proc


def test_resume_after_sigkill_equals_uninterrupted(tmp_path: Path) -> None:
    full = tmp_path / "full"
    cli(*RESUME_ARGS, f"eval.out={full}", cwd=tmp_path)

    part = tmp_path / "part"
    proc = _start_eval_until(part, tmp_path, 5, stderr=subprocess.DEVNULL, start_new_session=True)
    os.killpg(proc.pid, signal.SIGKILL)  # the env server subprocesses die with the group
    proc.wait(timeout=30)
    done_before = len(read_episodes(part))
    assert 5 <= done_before < 40, done_before
    assert not (part / "results.json").exists()

    cli(*RESUME_ARGS, f"eval.out={part}", cwd=tmp_path)
    assert scrub(read_episodes(part)) == scrub(read_episodes(full))
    a = json.loads((part / "results.json").read_text())
    b = json.loads((full / "results.json").read_text())
    assert a == b


def test_sigterm_mid_eval_stops_servers_and_resumes(tmp_path: Path) -> None:
    import psutil

    part = tmp_path / "part"
    proc = _start_eval_until(part, tmp_path, 5, stderr=subprocess.PIPE, text=True)
    servers = psutil.Process(proc.pid).children(recursive=True)
    assert servers, "the eval runs its env server as a child process"
    proc.send_signal(signal.SIGTERM)  # the main process only, as a job scheduler would
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    # It unwound (servers stopped by the runtime, not left to their parent watch) and says how to go on.
    assert f"finished episodes are kept in {part}; run the same command again to resume" in err
    gone, alive = psutil.wait_procs(servers, timeout=10)
    assert not alive, f"env servers outlived the interrupted eval: {alive}"
    assert 5 <= len(read_episodes(part)) < 40
    cli(*RESUME_ARGS, f"eval.out={part}", cwd=tmp_path)
    assert len(read_episodes(part)) == 40
    assert json.loads((part / "results.json").read_text())["evals"]["arith"]["n_episodes"] == 40


def test_bundle_dir_of_another_eval_is_refused(tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    cli("mode=eval", *BASE, "eval.num_tasks=3", f"eval.out={bundle}", cwd=tmp_path)
    other = cli("mode=eval", *BASE, "eval.num_tasks=4", f"eval.out={bundle}", cwd=tmp_path, check=False)
    assert other.returncode != 0
    assert "holds a different eval" in other.stderr + other.stdout


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed")
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    cli("mode=eval", *BASE, f"eval.out={bundle}", cwd=tmp_path)
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1000,900",
            f"--screenshot={shot}",
            (bundle / "report.html").as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # A rendered page with a table and two plots is far from a blank screenshot: check pixel variety.
    from PIL import Image

    img = Image.open(shot).convert("RGB")
    colors = img.getcolors(maxcolors=1_000_000)
    assert colors is not None and len(colors) > 50


def test_bundle_rerun_from_model_dir(tmp_path: Path) -> None:
    """A bundle shipped inside a model folder re-runs exactly what it describes from there."""
    model_dir = tmp_path / "my-model"
    cli("mode=eval", *BASE, "eval.num_tasks=5", f"eval.out={model_dir / 'evals'}", cwd=tmp_path)
    rerun = tmp_path / "rerun"
    cli("mode=eval", f"eval.bundle={model_dir / 'evals'}", f"eval.out={rerun}", cwd=tmp_path)
    assert scrub(read_episodes(rerun)) == scrub(read_episodes(model_dir / "evals"))
    bad = cli("mode=verify", f"eval.bundle={tmp_path / 'nothing'}", cwd=tmp_path, check=False)
    assert bad.returncode != 0 and "is not an eval bundle" in bad.stdout + bad.stderr


@pytest.mark.model
@pytest.mark.slow
def test_local_model_bundle_verifies_and_names_a_changed_model(tmp_path: Path) -> None:
    """Greedy local SmolLM2: eval -> verify passes; a model with perturbed weights -> verify names it."""
    from openenv_harness.rollout import embedded_model_path

    model = embedded_model_path()
    args = ("env=arith", "policy=smollm2", "runtime=local", "eval.num_tasks=4", "policy.max_new_tokens=12")
    bundle = tmp_path / "bundle"
    cli("mode=eval", *args, f"policy.path={model}", f"eval.out={bundle}", cwd=tmp_path, timeout=900)
    episodes = read_episodes(bundle)
    assert len(episodes) == 4 and all(e["transcript"] for e in episodes)
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert len(manifest["policy"]["model_hash"]) == 64

    ok = cli("mode=verify", f"eval.bundle={bundle}", cwd=tmp_path, timeout=900)
    assert "no differences" in ok.stdout

    import torch
    from safetensors.torch import load_file, save_file

    changed = tmp_path / "changed-model"
    shutil.copytree(model, changed)
    weights = load_file(str(changed / "model.safetensors"))
    name = next(k for k in weights if k.endswith("embed_tokens.weight"))
    weights[name] = weights[name] + 0.01 * torch.randn_like(weights[name])
    save_file(weights, str(changed / "model.safetensors"), metadata={"format": "pt"})
    drift = cli(
        "mode=verify",
        f"eval.bundle={bundle}",
        f"policy.path={changed}",
        cwd=tmp_path,
        check=False,
        timeout=900,
    )
    assert drift.returncode == 1, drift.stdout + drift.stderr
    assert "policy.model_hash" in drift.stdout


def test_named_suite_runs_every_eval(tmp_path: Path) -> None:
    bundle = tmp_path / "suite"
    out = cli(
        "mode=eval",
        "eval=cpu_suite",
        "policy=scripted",
        "runtime=inprocess",
        "eval.limit=3",
        f"eval.out={bundle}",
        cwd=tmp_path,
    )
    results = json.loads((bundle / "results.json").read_text())
    assert set(results["evals"]) == {"arith_heldout", "humaneval_small", "wordle"}
    for name, r in results["evals"].items():
        assert r["n_episodes"] == 3, name
        # Invalid actions from the policy are wrong answers, not infrastructure errors.
        assert r["error_rate"] == 0.0, name
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["datasets"]["wordle"] is None
    assert manifest["datasets"]["humaneval_small"]["environment_id"] == "coding"
    assert "eval wordle:" in out.stdout
