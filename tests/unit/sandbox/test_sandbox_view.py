"""No ground truth on any path a sandbox can see: every readable file is searched for HumanEval text."""

from __future__ import annotations

import json

import pytest

from openenv_harness.sandbox import Sandbox, SandboxConfig, SandboxLimits, bwrap_problem

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bwrap_problem() is not None, reason="bwrap unavailable"),
]

# Inside the sandbox: grep every readable file for the markers (fixed strings), then open every
# compressed file too (HumanEval ships as .jsonl.gz) and look inside; report names that say HumanEval.
SCAN = r"""
import bz2, gzip, json, lzma, os, subprocess, sys, zipfile
markers = json.loads(sys.stdin.read())
grep = subprocess.run(
    ["grep", "-rlIF", "--exclude-dir=proc", "--exclude-dir=sys", "--exclude-dir=dev", "-e", *markers, "/"],
    capture_output=True, text=True,
)
hits = [p for p in grep.stdout.splitlines() if p]
names, packed, files = [], 0, 0
for root, dirs, fs in os.walk("/"):
    if root in ("/proc", "/sys", "/dev"):
        dirs[:] = []
        continue
    for f in fs + dirs:
        if "humaneval" in f.lower() or "human_eval" in f.lower():
            names.append(os.path.join(root, f))
    for f in fs:
        files += 1
        path = os.path.join(root, f)
        opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(os.path.splitext(f)[1])
        try:
            if opener is not None:
                data = opener(path).read(64 << 20)
            elif f.endswith((".zip", ".whl", ".egg")):
                with zipfile.ZipFile(path) as z:
                    data = b"".join(z.read(n) for n in z.namelist())
            else:
                continue
        except Exception:
            continue
        packed += 1
        hits += [path for m in markers if m.encode() in data]
print(json.dumps({"hits": sorted(set(hits)), "names": names, "packed": packed, "files": files}))
"""


def _markers() -> list[str]:
    """Distinctive text of every task: its longest test line and its longest reference-solution line."""
    from envs.coding.tasks import _humaneval_rows

    markers = ["def check(candidate)", "canonical_solution"]
    for row in _humaneval_rows():
        for text in (row["test"], row["canonical_solution"]):
            longest = max((line.strip() for line in text.splitlines()), key=len)
            if len(longest) >= 30:
                markers.append(longest)
    return markers


@pytest.mark.parametrize("packages", [(), ("pytest",)], ids=["default", "allow-listed"])
def test_no_readable_path_holds_humaneval_text(packages: tuple[str, ...]) -> None:
    limits = SandboxLimits(wall_s=900, cpu_s=900, output_bytes=1 << 20)
    with Sandbox(SandboxConfig(limits=limits, packages=packages, python_site=True)) as sb:
        result = sb.run(SCAN, stdin=json.dumps(_markers()))
    assert result.exit_code == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["files"] > 1000 and report["packed"] > 0  # it did look
    assert report["names"] == []
    assert report["hits"] == []
