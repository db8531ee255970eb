"""A minimal OpenAI-compatible chat endpoint serving a local :class:`HFPolicy` (``serve-policy``).

Lets the ``openai`` policy (and any OpenAI client) use the embedded model over HTTP on loopback, e.g. to
share one model between several harness jobs, or to test the HTTP policy path without vLLM::

    python -m openenv_harness.harness.serve_policy --port 8001      # prints LISTENING http://127.0.0.1:8001
    python -m openenv_harness policy=openai policy.base_url=http://127.0.0.1:8001/v1 learner=collect

Routes: ``GET /v1/models``, ``POST /v1/chat/completions`` (``messages``, ``temperature``, ``max_tokens``;
``n`` must be 1). Requests are served one batch at a time (the model is not thread-safe).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ..rollout import Policy


class _Message(BaseModel):
    role: str
    content: str


class _ChatRequest(BaseModel):
    model: str | None = None
    messages: list[_Message] = Field(min_length=1)
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=4096)
    n: int = 1
    seed: int | None = None


def create_policy_app(policy: Policy, model_name: str = "smollm2-135m-instruct") -> FastAPI:
    """The ASGI app serving ``policy`` as ``model_name``."""
    app = FastAPI(title="openenv_harness policy server")
    lock = asyncio.Lock()

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model_name, "object": "model", "owned_by": "local"}]}

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(req: _ChatRequest) -> dict[str, Any] | JSONResponse:
        if req.n != 1:
            return JSONResponse(status_code=400, content={"error": {"message": "only n=1 is supported"}})
        chat_msgs = [m.model_dump() for m in req.messages]
        async with lock:
            (text,) = await policy.agenerate(
                [chat_msgs], temperature=req.temperature, max_new_tokens=req.max_tokens
            )
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": req.model or model_name,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
        }

    return app


def main(argv: list[str] | None = None) -> int:
    """Serve the embedded model (or ``--model-path``) until SIGINT/SIGTERM."""
    from ..rollout import EMBEDDED_MODEL, HFPolicy, resolve_model_path
    from ..server import serve

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--model-path", default=None)
    ap.add_argument("--max-new-tokens", type=int, default=48)
    args = ap.parse_args(argv)
    policy = HFPolicy(resolve_model_path(EMBEDDED_MODEL, args.model_path), max_new_tokens=args.max_new_tokens)
    serve(
        create_policy_app(policy),
        args.host,
        args.port,
        on_listening=lambda u: print(f"LISTENING {u}", flush=True),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
