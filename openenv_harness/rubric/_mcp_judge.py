"""A rubric that scores through a tool of an MCP server (a grading service, a judge behind MCP, a checker).

The tool is called over streamable HTTP with arguments built from templates (``{response}`` and episode-context
keys); its text result is read as JSON (``score_field``) or, failing that, with ``score_pattern``. As with the
HTTP judge, failures are errors and never zeros: an unreachable server, a tool error (``isError``) or an
unparsable result raise :class:`~openenv_harness.rubric.JudgeError`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from ._base import Rubric, snake_name
from ._judge import JudgeError, ScoreParsing, fill_template, parse_score, scale_score
from ._text import action_text


class McpToolRubric(Rubric):
    """Calls ``tool`` on the MCP server at ``url`` and turns its result into a score in ``[0, 1]``.

    Args:
        config: A ``McpToolRubric.Config``.
        **overrides: Config fields.
    """

    @dataclass
    class Config(ScoreParsing):
        """MCP tool parameters.

        Attributes:
            url: The MCP endpoint, e.g. ``http://127.0.0.1:9000/mcp``.
            tool: Name of the tool to call.
            arguments: Tool arguments; string values are templates (``{response}``, context keys).
            score_field: Key of the score when the result is a JSON object (None: always use the regex).
            score_pattern, score_min, score_max: see ``ScoreParsing`` (default scale ``[0, 1]``).
            token_env: Environment variable holding a bearer token for the server (None: no auth header).
            timeout_s: HTTP timeout of each request.
            text_field: Action field holding the response.
        """

        url: str = "http://127.0.0.1:9000/mcp"
        tool: str = "grade"
        arguments: dict[str, Any] = field(default_factory=lambda: {"response": "{response}"})
        score_field: str | None = "score"
        score_pattern: str = r"(-?\d+(?:\.\d+)?)"
        score_min: float = 0.0
        score_max: float = 1.0
        token_env: str | None = None
        timeout_s: float = 30.0
        text_field: str = "auto"

    config: Config

    def arguments(self, action: Any) -> dict[str, Any]:
        """The tool arguments for ``action`` (templates filled from the response and the context)."""
        response = action_text(action, self.config.text_field)
        return {
            name: fill_template(value, response, self.context, self._label())
            if isinstance(value, str)
            else value
            for name, value in self.config.arguments.items()
        }

    def parse_result(self, text: str) -> float:
        """Score from the tool's text result: ``score_field`` of a JSON object, else ``score_pattern``."""
        if self.config.score_field is not None:
            try:
                value = json.loads(text)
            except ValueError:
                value = None
            if isinstance(value, dict) and self.config.score_field in value:
                raw = value[self.config.score_field]
                if not isinstance(raw, int | float) or isinstance(raw, bool):
                    raise JudgeError(f"{self._label()}: {self.config.score_field!r} is {raw!r}, not a number")
                return scale_score(float(raw), self.config, self._label(), text)
        return parse_score(text, self.config, self._label())

    async def forward(self, action: Any, observation: Any) -> float:
        """Call the tool and parse its result."""
        from openenv_harness.mcp import open_mcp_session

        args = self.arguments(action)
        headers = {}
        if self.config.token_env:
            token = os.environ.get(self.config.token_env)
            if not token:
                raise JudgeError(f"{self._label()}: environment variable {self.config.token_env} is not set")
            headers["Authorization"] = f"Bearer {token}"
        try:
            async with open_mcp_session(
                self.config.url, headers=headers, timeout_s=self.config.timeout_s
            ) as session:
                result = await session.call_tool(self.config.tool, args)
        except JudgeError:
            raise
        except Exception as exc:  # transport errors arrive wrapped in task groups; keep the root cause
            raise JudgeError(f"{self._label()}: MCP server {self.config.url} failed: {_root(exc)}") from exc
        text = "".join(getattr(part, "text", "") for part in result.content)
        if getattr(result, "is_error", None) or getattr(result, "isError", False):  # mcp 2.x / 1.x spelling
            raise JudgeError(f"{self._label()}: tool {self.config.tool!r} failed: {text[:300]}")
        return self.parse_result(text)


def _root(exc: BaseException) -> str:
    """The first leaf of an exception group (anyio wraps transport errors), as ``Type: message``."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


def describe_judges(rubric: Rubric) -> dict[str, dict[str, Any]]:
    """Model judges and MCP tools a rubric tree calls, by dotted name, for eval-bundle manifests.

    Each entry is the judge's type and full config (model, endpoint, prompt template, sampling parameters,
    score parsing). Secrets never appear: configs only name the environment variable holding a key.
    """
    from dataclasses import asdict

    from ._judge import JudgeRubric

    return {
        name or snake_name(type(r)): {
            "type": f"{type(r).__module__}.{type(r).__qualname__}",
            **asdict(r.config),
        }
        for name, r in rubric.named_rubrics(include_self=True)
        if isinstance(r, JudgeRubric | McpToolRubric)
    }
