"""The generic adapter learns an MCP env's tools: OpenEnv's MCP-only echo style env and our ``tools`` env.

The tools (names, descriptions, input schemas) come from ``POST /mcp`` ``tools/list`` (or, for an env
registered here, its class's registry); they go into the prompt, and a reply naming a tool and its arguments
becomes the call action the server accepts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("openenv", reason="the openenv test dependency is missing")

from openenv_harness.client import EnvClient  # noqa: E402
from openenv_harness.rollout import (  # noqa: E402
    GenericAdapter,
    action_schema_of,
    adapter_for,
    list_tools,
    tools_of,
)
from openenv_harness.server import create_app, serve_in_thread  # noqa: E402


@pytest.fixture(scope="module")
def echo_mcp_url() -> Iterator[str]:
    from tests.foreign_envs.echo_mcp_app import app

    with serve_in_thread(app) as url:
        yield url


def test_openenv_mcp_env_tools_in_the_prompt_and_replies_on_the_wire(echo_mcp_url: str) -> None:
    url = echo_mcp_url
    assert [t.name for t in list_tools(url)] == ["echo", "shout"]
    adapter = adapter_for(
        "echo_mcp", None, action_schema_of("echo_mcp", [url]), tools=lambda: tools_of("echo_mcp", [url])
    )
    assert isinstance(adapter, GenericAdapter) and [t.name for t in adapter.tools] == ["echo", "shout"]
    assert "- shout: Repeat the message in capitals, `times` times. Arguments: {" in adapter.system_prompt
    client = EnvClient(url)
    try:
        first = client.reset(seed=3)
        word = first.result.rsplit(" ", 1)[-1].rstrip(".")  # type: ignore[attr-defined]
        reply = f'I will shout it.\n{{"tool": "shout", "message": "{word}", "times": "2"}}'
        obs = client.step(adapter.to_action(reply))
        assert obs.reward == 1.0 and obs.done and obs.result["data"] == f"{word.upper()} {word.upper()}"  # type: ignore[attr-defined]
    finally:
        client.close()


def test_collect_by_url_calls_a_listed_tool(echo_mcp_url: str, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "openenv_harness",
            f"env.url={echo_mcp_url}",
            "policy=scripted",
            "learner=collect",
            "learner.max_steps=1",
            "learner.group_size=2",
            "learner.groups_per_step=1",
            "logger=quiet",
            f"hydra.run.dir={run_dir}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    episodes = [json.loads(line) for line in (run_dir / "episodes.jsonl").read_text().splitlines()]
    assert len(episodes) == 2
    for ep in episodes:
        action = ep["turns"][0]["action"]
        # The scripted baseline calls the first listed tool with schema-valid arguments: a scored episode.
        assert action["type"] == "call_tool" and action["tool_name"] == "echo"
        assert isinstance(action["arguments"]["message"], str)
        assert ep["error"] is None and ep["invalid_action"] is None and ep["reward"] == 0.0


def test_our_tools_env_over_its_mcp_endpoint() -> None:
    with serve_in_thread(create_app("tools")) as url:
        served = list_tools(url)
        assert [t.name for t in served] == ["sql", "calculator"]
        assert tools_of("tools", []) == served  # the class's registry says the same, without a server
        schema = action_schema_of("tools", [url])
        adapter = GenericAdapter.from_schema("tools", schema, tools=served)
        assert adapter.tool_call == ("tool", "args")
        assert "- sql: Run one read-only SQL SELECT" in adapter.system_prompt
        assert '"expression":{"type":"string"}' in adapter.system_prompt
        client = EnvClient(url)
        try:
            client.reset(seed=1)
            obs = client.step(
                adapter.to_action('{"name": "calculator", "arguments": {"expression": "6 * 7"}}')
            )
            assert json.loads(obs.tool_result) == 42  # type: ignore[attr-defined]
            obs = client.step(adapter.to_action('{"tool": "sql", "query": "SELECT 1 AS one"}'))
            assert "one" in obs.tool_result  # type: ignore[attr-defined]
        finally:
            client.close()
        with pytest.raises(ValueError, match="unknown tool 'drop_tables': the tools are sql, calculator"):
            adapter.to_action('{"tool": "drop_tables", "args": {}}')
