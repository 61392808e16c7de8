"""Input checks: an action must be a small, JSON-like mapping before any rule sees it."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from guard._exceptions import ActionTooLarge, InvalidAction

MAX_BYTES = 1_000_000
MAX_DEPTH = 64
_SCALARS = (str, int, float, bool, type(None))


def as_mapping(value: Any, what: str) -> dict[str, Any]:
    """Accept a dict or a pydantic model; anything else is a type error naming `what`."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return value
    if isinstance(value, Mapping):
        return dict(value)
    raise InvalidAction(f"{what} must be a mapping (dict), got {type(value).__name__}")


def check_action(action: Any) -> tuple[dict[str, Any], str, bytes]:
    """Validate an action; return it, the SHA-256 digest of its sorted JSON, and that JSON."""
    data = as_mapping(action, "action")
    if "kind" not in data and data.get("type") == "function":
        data = from_tool_call(data)
    kind = data.get("kind")
    if not isinstance(kind, str) or not kind:
        raise InvalidAction(f"action needs a non-empty string 'kind', got {kind!r}")
    for key in ("actor", "tenant"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise InvalidAction(f"action {key!r} must be a string, got {data[key]!r}")
    if not isinstance(data.get("params", {}), dict):
        raise InvalidAction(f"action 'params' must be a mapping, got {type(data['params']).__name__}")
    raw = encode(data, "action")
    return data, "sha256:" + hashlib.sha256(raw).hexdigest(), raw


def from_tool_call(call: dict[str, Any]) -> dict[str, Any]:
    """Turn an OpenAI-style tool call into an action: the name is the kind, arguments params."""
    fn = call.get("function")
    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
        raise InvalidAction("a tool call needs function.name (a string)")
    args = fn.get("arguments", {})
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError as exc:
            raise InvalidAction(f"tool call arguments are not valid JSON: {exc.msg}") from None
    if not isinstance(args, dict):
        raise InvalidAction(f"tool call arguments must be a JSON object, got {type(args).__name__}")
    extra = {k: v for k, v in call.items() if k in ("actor", "tenant", "id")}
    return {"kind": fn["name"], "params": args, **extra}


def check_data(value: Any, what: str) -> dict[str, Any]:
    """Validate a context or item mapping with the same limits as an action."""
    data = as_mapping(value, what)
    encode(data, what)
    return data


def digest(data: Any, what: str) -> str:
    """SHA-256 hex of the sorted, compact JSON encoding of `data`."""
    return "sha256:" + hashlib.sha256(encode(data, what)).hexdigest()


def encode(data: Any, what: str) -> bytes:
    """Encode JSON-like data, enforcing type, depth and size limits with clear errors."""
    _check_shape(data, what)
    try:
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        raw = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidAction(f"{what} holds text that is not valid UTF-8 ({exc.reason})") from None
    if len(raw) > MAX_BYTES:
        raise ActionTooLarge(f"{what} is {len(raw)} bytes encoded; the limit is {MAX_BYTES}")
    return raw


def _check_shape(data: Any, what: str) -> None:
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if depth > MAX_DEPTH:
                raise ActionTooLarge(f"{what} is nested deeper than {MAX_DEPTH} levels")
            for k, v in value.items():
                if not isinstance(k, str):
                    raise InvalidAction(f"{what} has a non-string key {k!r}")
                if not isinstance(v, _SCALARS):
                    stack.append((v, depth + 1))
                elif isinstance(v, float) and not math.isfinite(v):
                    raise InvalidAction(f"{what} field {k!r} is {v!r}; numbers must be finite")
        elif isinstance(value, list | tuple):
            if depth > MAX_DEPTH:
                raise ActionTooLarge(f"{what} is nested deeper than {MAX_DEPTH} levels")
            for v in value:
                if not isinstance(v, _SCALARS):
                    stack.append((v, depth + 1))
                elif isinstance(v, float) and not math.isfinite(v):
                    raise InvalidAction(f"{what} holds {v!r}; numbers must be finite")
        elif isinstance(value, bytes | bytearray):
            raise InvalidAction(f"{what} holds bytes; send text (UTF-8 str) instead")
        else:
            raise InvalidAction(
                f"{what} holds a {type(value).__name__}; only JSON types "
                "(dict, list, str, int, float, bool, None) are allowed"
            )
