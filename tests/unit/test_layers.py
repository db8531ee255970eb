"""The direction of imports is the architecture (DESIGN.md section 1): checked on the source, not by convention."""

import ast
from pathlib import Path

import openenv_harness

ROOT = Path(openenv_harness.__file__).parent

FORBIDDEN = {
    # package: packages of ours it must never import (module level or lazily)
    "spec": {"server", "client", "runtime", "rubric", "tasks", "rollout", "harness", "evals"},
    "rollout": {"harness", "evals"},
    "evals": {"harness"},
    "server": {"rollout", "harness", "evals"},
    "client": {"rollout", "harness", "evals"},
    "runtime": {"rollout", "harness", "evals"},
    "rubric": {"rollout", "harness", "evals"},
}


def _imports(path: Path) -> list[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    rel = path.relative_to(ROOT.parent).with_suffix("")
    package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                out.append(".".join([*base, *([node.module] if node.module else [])]))
            elif node.module:
                out.append(node.module)
    return out


def _edges() -> list[tuple[str, str, str]]:
    edges = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if len(parts) < 2:
            continue
        for name in _imports(path):
            bits = name.split(".")
            if bits[0] in ("envs", "rubrics"):
                edges.append((parts[0], bits[0], str(path)))
            elif bits[0] == "openenv_harness" and len(bits) > 1:
                edges.append((parts[0], ".".join(bits[1:]), str(path)))
    return edges


def test_no_import_runs_back_up_the_layers():
    seen = {(src, dst.split(".")[0]) for src, dst, _ in _edges()}
    # The parser sees the real edges (relative, absolute and lazy imports), so the checks below can fail.
    assert {
        ("evals", "rollout"),
        ("harness", "rollout"),
        ("rollout", "runtime"),
        ("harness", "evals"),
    } <= seen
    bad = [
        f"{where}: {src} imports {dst}"
        for src, dst, where in _edges()
        if dst.split(".")[0] in FORBIDDEN.get(src, set())
    ]
    assert not bad, "\n".join(bad)


def test_the_framework_holds_no_env_or_rubric_code():
    bad = [f"{where}: imports {dst}" for src, dst, where in _edges() if dst in ("envs", "rubrics")]
    assert not bad, "\n".join(bad)


def test_training_uses_evals_only_through_its_public_api():
    bad = [
        f"{where}: imports {dst}"
        for src, dst, where in _edges()
        if src == "harness" and dst.startswith("evals.")
    ]
    assert not bad, "\n".join(bad)
