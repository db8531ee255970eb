"""The OpenAPI document of an env server: the stateful HTTP routes and ``/config``, with their real schemas.

``/reset``, ``/step``, ``/state`` and ``/close`` are plain Starlette endpoints (they are on the hot path, see
:mod:`._http`), so FastAPI cannot describe them, and it describes ``/config`` as "200, any body". This module
writes their request and response schemas (the environment's own action, observation and state models) and
every status they can answer into ``/openapi.json``, so that

* API tooling (``schemathesis`` in ``tests/integration/test_server_openapi.py``) can check the server against
  the document: no 5xx on any input, every answer documented and schema-conformant;
* OpenEnv's ``openenv validate --url`` finds ``/reset``, ``/step`` and ``/state`` where it looks for them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from openenv_harness.spec import ConfigHolder, Environment
from openenv_harness.spec._config import MAX_WEIGHT

_REF = "#/components/schemas/{model}"
_RESERVED = ("done", "reward", "metadata")
_SESSION_HEADER = {
    "name": "X-Session-Id",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "Session id from /reset (or send it as the body field session_id).",
}
_ERRORS = {
    400: "INVALID_JSON: not JSON, or not an object",
    404: "SESSION_NOT_FOUND / UNSUPPORTED",
    408: "REQUEST_TIMEOUT: the body did not arrive in time",
    409: "NOT_RESET / EPISODE_DONE",
    413: "FRAME_TOO_LARGE: body over max_frame_bytes",
    422: "VALIDATION_ERROR / CONFIG_INVALID, naming the field",
    500: "ENV_ERROR / REWARD_NOT_FINITE / INTERNAL",
    503: "CAPACITY: max_sessions reached (Retry-After)",
    504: "TIMEOUT: the reset or step exceeded timeout_s",
}
_TIMEOUT = {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "null"}]}


def _model(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """Move a pydantic schema's ``$defs`` into ``components`` and return the rest."""
    schema = copy.deepcopy(schema)
    components.update(schema.pop("$defs", {}))
    return schema


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _responses(ok: dict[str, Any], *codes: int) -> dict[str, Any]:
    out: dict[str, Any] = {"200": _json(ok)}
    for code in sorted({400, 408, 413, 422, *codes}):
        out[str(code)] = _json({"$ref": _REF.format(model="Error")}, _ERRORS.get(code, "error"))
    return out


def _body(schema: dict[str, Any], required: bool) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _partial(schema: Any, defs: dict[str, Any]) -> Any:
    """A config JSON schema as a partial update: nothing required, no unknown keys ($refs inlined)."""
    if isinstance(schema, dict) and "$ref" in schema:
        return _partial(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
    if not isinstance(schema, dict):
        return schema
    out = {k: _partial(v, defs) for k, v in schema.items() if k not in ("required", "$defs", "default")}
    if "properties" in schema:
        out["properties"] = {k: _partial(v, defs) for k, v in schema["properties"].items()}
        out["additionalProperties"] = False
    return out


def config_update_schema(config: ConfigHolder) -> dict[str, Any]:
    """The schema of a valid ``POST /config`` body for the current config.

    The fields it has, none required, ``schema_version`` equal to the server's, and ``weights`` naming only its
    components, each in ``[0, MAX_WEIGHT]``.
    """
    full = config.json_schema()
    schema: dict[str, Any] = _partial(full, full.get("$defs", {}))
    props = schema.setdefault("properties", {})
    current, _ = config.get()
    props["schema_version"] = {"enum": [current.schema_version, str(current.schema_version)]}
    weights = getattr(current, "weights", None)
    if isinstance(weights, dict) and "weights" in props:
        number = {"type": "number", "minimum": 0, "maximum": MAX_WEIGHT}
        props["weights"] = {
            "type": "object",
            "properties": {str(name): number for name in weights},
            "additionalProperties": False,
        }
    return schema


def openapi_paths(
    env_cls: type[Environment[Any, Any]], config: ConfigHolder | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(paths, component schemas)`` of the routes FastAPI cannot describe, for ``env_cls``."""
    comps: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    }
    action = _model(env_cls.action_type.model_json_schema(ref_template=_REF), comps)
    observation = _model(env_cls.observation_type.model_json_schema(ref_template=_REF), comps)
    for name in _RESERVED:  # they travel beside the observation on the wire, not inside it
        observation.get("properties", {}).pop(name, None)
    if "required" in observation:
        observation["required"] = [r for r in observation["required"] if r not in _RESERVED]
    comps["Action"], comps["Observation"] = action, observation
    comps["State"] = _model(env_cls.state_type.model_json_schema(ref_template=_REF), comps)
    comps["StepResult"] = {
        "type": "object",
        "required": ["observation", "reward", "done", "metadata"],
        "properties": {
            "observation": {"$ref": _REF.format(model="Observation")},
            "reward": {"anyOf": [{"type": "number"}, {"type": "null"}]},
            "done": {"type": "boolean"},
            "metadata": {"type": "object"},
            "session_id": {"type": "string"},
        },
    }
    result = {"$ref": _REF.format(model="StepResult")}
    sid = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    session_body = {"type": "object", "properties": {"session_id": sid}}
    paths: dict[str, Any] = {
        "/reset": {
            "post": {
                "summary": "Start an episode (creates a session without session_id)",
                "operationId": "reset",
                "parameters": [_SESSION_HEADER],
                "requestBody": _body(
                    {
                        "type": "object",
                        "properties": {
                            "seed": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                            "episode_id": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                            "session_id": sid,
                            "timeout_s": _TIMEOUT,
                        },
                        "additionalProperties": True,
                    },
                    required=False,
                ),
                "responses": _responses(result, 404, 500, 503, 504),
            }
        },
        "/step": {
            "post": {
                "summary": "Apply one action in a session",
                "operationId": "step",
                "parameters": [_SESSION_HEADER],
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["action"],
                        "properties": {
                            "action": {"$ref": _REF.format(model="Action")},
                            "timeout_s": _TIMEOUT,
                            "session_id": sid,
                            "request_id": {},
                        },
                        "additionalProperties": False,
                    },
                    required=True,
                ),
                "responses": _responses(result, 404, 409, 500, 504),
            }
        },
        "/state": {
            "get": {
                "summary": "The session's episode state",
                "operationId": "state_get",
                "parameters": [_SESSION_HEADER],
                "responses": _responses({"$ref": _REF.format(model="State")}, 404, 409, 500),
            },
            "post": {
                "summary": "The session's episode state (session id in the body)",
                "operationId": "state_post",
                "parameters": [_SESSION_HEADER],
                "requestBody": _body(session_body, required=False),
                "responses": _responses({"$ref": _REF.format(model="State")}, 404, 409, 500),
            },
        },
        "/close": {
            "post": {
                "summary": "End a session",
                "operationId": "close",
                "parameters": [_SESSION_HEADER],
                "requestBody": _body(session_body, required=False),
                "responses": _responses(
                    {
                        "type": "object",
                        "required": ["closed", "session_id"],
                        "properties": {"closed": {"type": "boolean"}, "session_id": {"type": "string"}},
                    },
                    404,
                    409,
                ),
            }
        },
    }
    snapshot = {
        "type": "object",
        "required": ["schema_version", "config", "config_version", "json_schema"],
        "properties": {
            "config": {"type": "object"},
            "config_version": {"type": "integer", "minimum": 0},
            "json_schema": {"type": "object"},
        },
    }
    auth = (401, 403, 404)  # token missing / wrong; an env without a reward config is UNSUPPORTED (404)
    paths["/config"] = {
        "get": {
            "summary": "The effective reward config (token-guarded when the server has one)",
            "operationId": "get_config",
            "responses": _responses(snapshot, *auth),
        },
        "post": {
            "summary": "Partial reward-config update, applied at each session's next reset",
            "operationId": "post_config",
            "requestBody": _body(
                config_update_schema(config) if config is not None else {"type": "object"}, required=True
            ),
            "responses": _responses(snapshot, *auth),
        },
    }
    return paths, comps


def install_openapi(
    app: FastAPI, env_cls: type[Environment[Any, Any]], config: ConfigHolder | None = None
) -> None:
    """Make ``app.openapi()`` (served at ``/openapi.json``) include :func:`openapi_paths`, built once."""
    default: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = default()
            paths, comps = openapi_paths(env_cls, config)
            schema["paths"].update(paths)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(comps)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = ["install_openapi", "openapi_paths"]
