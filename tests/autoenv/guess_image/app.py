"""An OpenEnv-protocol env server written with FastAPI alone: what an OpenEnv-native image serves.

No openenv_harness inside the image. It speaks OpenEnv 0.10's WebSocket protocol (``reset``/``step``/
``state``/``close`` frames, ``observation``/``state``/``error`` replies), serves ``/health``, ``/metadata`` and
``/schema``, holds one session at a time like OpenEnv's default (``CAPACITY_REACHED`` beyond), and carries its
own copy of the taskset rows (``/app/rows.json``), chosen at reset by ``split``/``index``. Observations say
what the container was given: its cgroup memory limit, CPU quota, and whether the secret is set (never its
value) — so a test can see the manifest's resources and secrets reach the container.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

ROWS = json.loads(Path("/app/rows.json").read_text())
app = FastAPI()
_sessions = {"open": 0}
CAP = 1


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def _limits() -> dict[str, Any]:
    quota, period = (
        _read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
        _read("/sys/fs/cgroup/cpu/cpu.cfs_period_us"),
    )
    if quota is None:  # cgroup v2
        both = (_read("/sys/fs/cgroup/cpu.max") or "max 100000").split()
        quota, period = both[0], both[1]
    mem = _read("/sys/fs/cgroup/memory/memory.limit_in_bytes") or _read("/sys/fs/cgroup/memory.max")
    cpus = None if quota in (None, "max", "-1") else int(quota) / int(period or 100000)
    return {"memory": int(mem) if mem and mem.isdigit() else None, "cpus": cpus}


@app.get("/health")
def health() -> dict[str, Any]:
    return {"status": "healthy"}


@app.get("/metadata")
def metadata() -> dict[str, Any]:
    # The row is chosen by split/index, the same every time: a seed cannot make two episodes differ.
    return {
        "name": "guess_image_env",
        "version": "1.4.0",
        "description": "Answer a + b.",
        "supports_seed": True,
    }


@app.get("/schema")
def schema() -> dict[str, Any]:
    return {
        "action": {
            "type": "object",
            "properties": {"answer": {"type": "integer", "description": "The sum, as an integer."}},
            "required": ["answer"],
        },
        "observation": {"type": "object", "properties": {"question": {"type": "string"}}},
        "state": {"type": "object", "properties": {"step_count": {"type": "integer"}}},
    }


def _obs(observation: dict[str, Any], reward: float | None, done: bool) -> dict[str, Any]:
    return {"type": "observation", "data": {"observation": observation, "reward": reward, "done": done}}


@app.websocket("/ws")
async def ws(socket: WebSocket) -> None:
    await socket.accept()
    if _sessions["open"] >= CAP:
        await socket.send_json({"type": "error", "data": {"code": "CAPACITY_REACHED", "message": "full"}})
        await socket.close()
        return
    _sessions["open"] += 1
    row: dict[str, Any] = {}
    steps = 0
    try:
        while True:
            frame = json.loads(await socket.receive_text())
            kind, data = frame.get("type"), frame.get("data") or {}
            if kind == "reset":
                rows = ROWS[data.get("split", "train")]
                index = data.get("index")
                row = rows[index if index is not None else int(data.get("seed") or 0) % len(rows)]
                steps = 0
                question = f"What is {row['a']} + {row['b']}?"
                extra = {"secret_set": bool(os.environ.get("GUESS_TOKEN")), "limits": _limits()}
                await socket.send_json(_obs({"question": question, **extra}, None, False))
            elif kind == "step":
                steps += 1
                try:
                    right = int(data.get("answer")) == row.get("answer")
                except (TypeError, ValueError):
                    await socket.send_json(
                        {"type": "error", "data": {"code": "VALIDATION_ERROR", "message": "int"}}
                    )
                    continue
                await socket.send_json(_obs({"question": ""}, float(right), True))
            elif kind == "state":
                await socket.send_json({"type": "state", "data": {"step_count": steps}})
            elif kind == "close":
                await socket.close()
                return
    except WebSocketDisconnect:
        pass
    finally:
        _sessions["open"] -= 1
