"""A judge rubric: ask a model over an OpenAI-compatible chat-completions endpoint for a score.

Model, endpoint, prompt template, sampling parameters and score parsing are config, so they are recorded in
``state_dict()`` and every eval bundle. The API key is read from the environment variable named by
``api_key_env`` (secrets come from the environment only and are never part of the config).

Failures are errors, never zeros: an unreachable endpoint, an HTTP error, an answer of the wrong shape or one
that does not match ``score_pattern`` raise :class:`JudgeError`, which :meth:`Rubric.score` reports in
``reward_errors``.
"""

from __future__ import annotations

import os
import re
import ssl
from dataclasses import dataclass
from typing import Any

import httpx

from ._base import Rubric
from ._config import RubricError
from ._text import action_text

DEFAULT_TEMPLATE = (
    "Rate how well the response answers the question, from 0 to 10.\n\n"
    "Question:\n{question}\n\nResponse:\n{response}\n\n"
    'Reply with "Score: <number>" and nothing else.'
)


_ssl_context: ssl.SSLContext | None = None


def _verify() -> ssl.SSLContext:
    """One shared TLS context: building it loads the CA bundle (tens of ms), too slow to repeat per call."""
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = httpx.create_ssl_context()
    return _ssl_context


class JudgeError(RubricError):
    """The judge could not produce a score (unreachable, HTTP error, unparsable answer)."""


@dataclass
class ScoreParsing:
    """How a judge's text answer becomes a score in ``[0, 1]`` (shared by the HTTP and MCP judges).

    Attributes:
        score_pattern: Regex whose first group is the score; the last match in the answer wins.
        score_min: Lowest score on the judge's scale (maps to 0.0).
        score_max: Highest score on the judge's scale (maps to 1.0).
    """

    score_pattern: str = r"[Ss]core\s*[:=]\s*(-?\d+(?:\.\d+)?)"
    score_min: float = 0.0
    score_max: float = 10.0

    def __post_init__(self) -> None:
        if self.score_max <= self.score_min:
            raise ValueError(
                f"score_max ({self.score_max}) must be greater than score_min ({self.score_min})"
            )
        try:
            groups = re.compile(self.score_pattern).groups
        except re.error as exc:
            raise ValueError(f"score_pattern {self.score_pattern!r} is not a valid regex: {exc}") from None
        if groups < 1:
            raise ValueError(f"score_pattern {self.score_pattern!r} needs a capture group for the score")


def scale_score(raw: float, parsing: ScoreParsing, label: str, answer: str) -> float:
    """Map ``raw`` from ``[score_min, score_max]`` to ``[0, 1]``; outside the range is a :class:`JudgeError`."""
    lo, hi = parsing.score_min, parsing.score_max
    if not lo <= raw <= hi:
        raise JudgeError(f"{label}: judge score {raw} is outside [{lo}, {hi}]: {answer[:200]!r}")
    return (raw - lo) / (hi - lo)


def parse_score(answer: str, parsing: ScoreParsing, label: str) -> float:
    """The last match of ``score_pattern`` in ``answer``, scaled to ``[0, 1]``.

    Raises:
        JudgeError: when nothing matches or the score is out of range.
    """
    matches = re.findall(parsing.score_pattern, answer)
    if not matches:
        raise JudgeError(f"{label}: unparsable judge answer (no match for score_pattern): {answer[:200]!r}")
    last = matches[-1]
    return scale_score(float(last[0] if isinstance(last, tuple) else last), parsing, label, answer)


def fill_template(template: str, response: str, context: Any, label: str) -> str:
    """``template.format(response=..., **context)`` with a clear error for a missing context key."""
    try:
        return template.format(response=response, **context)
    except KeyError as exc:
        raise JudgeError(
            f"{label}: the template needs {exc} but the episode context has {sorted(context)}"
        ) from None


class JudgeRubric(Rubric):
    """Scores a response with a chat model; the parsed score is mapped to ``[0, 1]``.

    The prompt is ``prompt_template.format(response=<action text>, **context)``: any key of the episode context
    (set by ``reset(context=...)``) may appear, e.g. ``{question}`` or ``{reference}``.

    Args:
        config: A ``JudgeRubric.Config``.
        **overrides: Config fields.
    """

    @dataclass
    class Config(ScoreParsing):
        """Judge parameters.

        Attributes:
            base_url: OpenAI-compatible API root (``.../v1``); ``/chat/completions`` is appended.
            model: Model id sent to the endpoint (and recorded in bundles).
            api_key_env: Name of the environment variable holding the API key (None: no auth header).
            system_prompt: Optional system message.
            prompt_template: User message; ``{response}`` and context keys are substituted.
            temperature: Sampling temperature.
            top_p: Nucleus sampling.
            max_tokens: Answer budget.
            seed: Sampling seed, when the endpoint supports it.
            score_pattern, score_min, score_max: see :class:`ScoreParsing`.
            timeout_s: Per-request timeout.
            retries: Extra attempts after a connection error or a 5xx answer.
            text_field: Action field holding the response (``auto``: see ``action_text``).
        """

        base_url: str = "http://127.0.0.1:8000/v1"
        model: str = "judge"
        api_key_env: str | None = None
        system_prompt: str = ""
        prompt_template: str = DEFAULT_TEMPLATE
        temperature: float = 0.0
        top_p: float = 1.0
        max_tokens: int = 32
        seed: int | None = None
        timeout_s: float = 30.0
        retries: int = 1
        text_field: str = "auto"

    config: Config

    def messages(self, action: Any) -> list[dict[str, str]]:
        """The chat messages sent for ``action`` (the template filled from the response and the context)."""
        response = action_text(action, self.config.text_field)
        prompt = fill_template(self.config.prompt_template, response, self.context, self._label())
        out = [{"role": "system", "content": self.config.system_prompt}] if self.config.system_prompt else []
        return [*out, {"role": "user", "content": prompt}]

    def parse_score(self, answer: str) -> float:
        """Map the judge's answer to ``[0, 1]`` (see :func:`parse_score`)."""
        return parse_score(answer, self.config, self._label())

    def _request(self, action: Any) -> tuple[str, dict[str, Any], dict[str, str]]:
        cfg = self.config
        body: dict[str, Any] = {
            "model": cfg.model,
            "messages": self.messages(action),
            "temperature": cfg.temperature,
            "top_p": cfg.top_p,
            "max_tokens": cfg.max_tokens,
        }
        if cfg.seed is not None:
            body["seed"] = cfg.seed
        headers = {}
        if cfg.api_key_env:
            key = os.environ.get(cfg.api_key_env)
            if not key:
                raise JudgeError(
                    f"{self._label()}: environment variable {cfg.api_key_env} (judge API key) is not set"
                )
            headers["Authorization"] = f"Bearer {key}"
        return cfg.base_url.rstrip("/") + "/chat/completions", body, headers

    async def forward(self, action: Any, observation: Any) -> float:
        """Ask the judge and parse its score."""
        url, body, headers = self._request(action)
        last_error = ""
        async with httpx.AsyncClient(
            timeout=self.config.timeout_s, verify=_verify(), trust_env=False
        ) as client:
            for _ in range(self.config.retries + 1):
                try:
                    resp = await client.post(url, json=body, headers=headers)
                except httpx.TimeoutException:
                    last_error = f"judge at {url} timed out after {self.config.timeout_s}s"
                    continue
                except httpx.TransportError as exc:
                    last_error = f"judge at {url} is unreachable ({type(exc).__name__}: {exc})"
                    continue
                if resp.status_code >= 500:
                    last_error = f"judge at {url} answered HTTP {resp.status_code}: {resp.text[:200]}"
                    continue
                if resp.status_code >= 400:
                    raise JudgeError(
                        f"{self._label()}: judge at {url} answered HTTP {resp.status_code}: {resp.text[:200]}"
                    )
                return self.parse_score(self._content(resp))
        raise JudgeError(f"{self._label()}: {last_error}")

    def _content(self, resp: httpx.Response) -> str:
        try:
            content = resp.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise JudgeError(
                f"{self._label()}: judge answer is not a chat completion: {resp.text[:200]!r}"
            ) from None
        if not isinstance(content, str):
            raise JudgeError(f"{self._label()}: judge message content is {type(content).__name__}, not text")
        return content
