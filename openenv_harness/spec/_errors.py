"""Stable error codes and the exception that carries them.

Every failure that crosses the wire (WS error frame, HTTP 4xx/5xx body, MCP tool error) is expressed as an
:class:`ErrorCode` plus a human message. Codes are part of the public contract: clients branch on them, so a
code is never renamed, only added. Names follow OpenEnv's upper-snake style (``VALIDATION_ERROR`` is shared).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Stable, wire-visible error codes."""

    INVALID_JSON = "INVALID_JSON"
    """The frame or body is not valid JSON (or not a JSON object)."""
    UNKNOWN_TYPE = "UNKNOWN_TYPE"
    """A WS frame's ``type`` is not one of reset/step/state/close."""
    VALIDATION_ERROR = "VALIDATION_ERROR"
    """An action, reset argument or frame failed schema validation."""
    FRAME_TOO_LARGE = "FRAME_TOO_LARGE"
    """A frame or body is larger than the server's limit."""
    NOT_RESET = "NOT_RESET"
    """A step or state was requested before any reset in this session."""
    EPISODE_DONE = "EPISODE_DONE"
    """A step was sent after the episode ended; reset first."""
    CAPACITY = "CAPACITY"
    """The server already holds its maximum number of sessions."""
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
    """An HTTP session id is unknown, expired or was reaped."""
    TIMEOUT = "TIMEOUT"
    """A reset or step did not finish within its ``timeout_s``."""
    ENV_ERROR = "ENV_ERROR"
    """The environment's own code raised; the session stays usable after a reset."""
    REWARD_NOT_FINITE = "REWARD_NOT_FINITE"
    """A step's reward (or a reward component) overflowed to inf or NaN; the episode is abandoned."""
    REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
    """An HTTP request body did not arrive within the server's body timeout."""
    CONFIG_INVALID = "CONFIG_INVALID"
    """A reward-config update named an unknown field, had a wrong type or an invalid value."""
    UNAUTHORIZED = "UNAUTHORIZED"
    """An orchestrator-only route was called without the right token."""
    CONNECTION_LOST = "CONNECTION_LOST"
    """Client side: the connection dropped while a request was in flight."""
    UNSUPPORTED = "UNSUPPORTED"
    """The server or environment does not support the requested operation."""
    PROTOCOL_ERROR = "PROTOCOL_ERROR"
    """Client side: the server's reply could not be understood (e.g. an observation that does not fit the
    observation schema); an infrastructure error, never the policy's wrong answer."""
    INTERNAL = "INTERNAL"
    """An unexpected server-side failure (a bug); the server keeps serving."""


OPENENV_CODES: dict[str, ErrorCode] = {
    "CAPACITY_REACHED": ErrorCode.CAPACITY,
    "EXECUTION_ERROR": ErrorCode.ENV_ERROR,
    "FACTORY_ERROR": ErrorCode.ENV_ERROR,
    "SESSION_ERROR": ErrorCode.INTERNAL,
}
"""OpenEnv 0.10's ``WSErrorCode`` values that differ from ours, and the code each means here.

``INVALID_JSON``, ``UNKNOWN_TYPE`` and ``VALIDATION_ERROR`` are shared. An error read from the wire with one
of these codes is raised with our code; the server's own code is kept in ``details["wire_code"]``.
"""


class EnvError(Exception):
    """An error with a stable :class:`ErrorCode`, raised by servers, clients and environments.

    Args:
        code: The stable error code.
        message: A message that names the problem and, where possible, what to do about it.
        details: Optional JSON-serialisable details (for example the failing field path).
    """

    def __init__(self, code: ErrorCode | str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = ErrorCode(code) if code in ErrorCode.__members__ else code
        self.message = message
        self.details = details or {}

    def to_wire(self) -> dict[str, Any]:
        """The ``data`` object of an error frame / HTTP error body."""
        out: dict[str, Any] = {"code": str(self.code), "message": self.message}
        if self.details:
            out["details"] = self.details
        return out

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> EnvError:
        """Rebuild an error from the ``data`` object of an error frame or body (OpenEnv's codes mapped)."""
        code = str(data.get("code", ErrorCode.INTERNAL))
        details = data.get("details") if isinstance(data.get("details"), dict) else None
        if code in OPENENV_CODES:
            details = {**(details or {}), "wire_code": code}
            code = OPENENV_CODES[code]
        return cls(code, str(data.get("message", "")), details)

    def __repr__(self) -> str:
        return f"EnvError({self.code!s}, {self.message!r})"

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"
