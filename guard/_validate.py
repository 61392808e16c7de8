"""Input checks: an action must be a small, JSON-like mapping before any rule sees it."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from hashlib import sha256
from typing import Any

import orjson
from pydantic import BaseModel

from guard._exceptions import ActionTooLarge, InvalidAction

MAX_BYTES = 1_000_000
#: The largest integer a JSON number (an IEEE double, RFC 8785) holds exactly.
MAX_EXACT_INT = 2**53 - 1
#: Levels of nesting an input may have. Below orjson's own limit (254), which the audit
#: record and the API's answers, wrapping the input a few levels deeper, must stay within.
MAX_DEPTH = 200


def as_mapping(value: Any, what: str) -> dict[str, Any]:
    """Accept a dict or a pydantic model; anything else is a type error naming `what`."""
    if type(value) is dict:
        return value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return value
    if isinstance(value, Mapping):
        return dict(value)
    raise InvalidAction(f"{what} must be a mapping (dict), got {type(value).__name__}")


_EMPTY: dict[str, Any] = {}


def check_action(action: Any) -> tuple[dict[str, Any], str, bytes]:
    """Validate an action; return it, the SHA-256 digest of its sorted JSON, and that JSON."""
    data = action if type(action) is dict else as_mapping(action, "action")
    kind = data.get("kind")
    if type(kind) is not str or not kind:
        if "kind" not in data and data.get("type") in TOOL_CALL_TYPES:
            data = from_tool_call(data)
            kind = data.get("kind")
        if not isinstance(kind, str) or not kind:
            raise InvalidAction(f"action needs a non-empty string 'kind', got {_shown(kind)}")
    actor, tenant = data.get("actor"), data.get("tenant")
    if (actor is not None and not isinstance(actor, str)) or (
        tenant is not None and not isinstance(tenant, str)
    ):
        key = "actor" if actor is not None and not isinstance(actor, str) else "tenant"
        raise InvalidAction(f"action {key!r} must be a string, got {_shown(data[key])}")
    if (
        not kind.isprintable()
        or not (actor is None or actor.isprintable())
        or not (tenant is None or tenant.isprintable())
    ):
        check_ids(kind, actor, tenant)
    params = data.get("params", _EMPTY)
    if type(params) is not dict and not isinstance(params, dict):
        if not isinstance(params, Mapping | BaseModel):
            raise InvalidAction(f"action 'params' must be a mapping, got {type(params).__name__}")
        data = {**data, "params": as_mapping(params, "action 'params'")}  # as the action itself
    raw = encode(data, "action")
    return data, "sha256:" + sha256(raw).hexdigest(), raw


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def check_ids(kind: str, actor: str | None, tenant: str | None) -> None:
    """Refuse a control character (NUL, a line break, ESC) in the kind, actor or tenant:
    they are ids, indexed in the audit log (PostgreSQL cannot store a NUL at all) and
    printed in consoles and logs."""
    for key, value in (("kind", kind), ("actor", actor), ("tenant", tenant)):
        found = _CONTROL.search(value) if value is not None else None
        if found is not None:
            raise InvalidAction(
                f"action {key!r} holds the control character U+{ord(found.group()):04X} "
                f"at position {found.start()}; ids must be printable text"
            )


def _shown(value: Any) -> str:
    """A wrong value by its type only: it may be a card or phone number sent in the wrong place."""
    return repr(value) if value is None or value == "" else type(value).__name__


#: The `type` of the tool-call shapes taken as actions: OpenAI's Chat Completions
#: (`{"type": "function", "function": {"name", "arguments"}}`), OpenAI's Responses API
#: (`{"type": "function_call", "name", "arguments"}`) and Anthropic's Messages API
#: (`{"type": "tool_use", "name", "input"}`).
TOOL_CALL_TYPES = ("function", "function_call", "tool_use")


def from_tool_call(call: dict[str, Any]) -> dict[str, Any]:
    """Turn a tool call into an action: the tool's name is the kind, its arguments params."""
    shape = call.get("type")
    if shape == "function_call":
        name, args, where = call.get("name"), call.get("arguments", {}), "name"
    elif shape == "tool_use":
        name, args, where = call.get("name"), call.get("input", {}), "name"
    else:
        fn = call.get("function")
        fn = fn if isinstance(fn, dict) else {}
        name, args, where = fn.get("name"), fn.get("arguments", {}), "function.name"
    if not isinstance(name, str):
        raise InvalidAction(f"a tool call of type {shape!r} needs {where} (a string)")
    if isinstance(args, str) and not args.strip():
        args = {}  # no arguments
    elif isinstance(args, str):
        try:  # orjson: strict JSON (no NaN or Infinity) and a bounded nesting depth
            text, args = args, orjson.loads(args)
        except orjson.JSONDecodeError as exc:
            raise InvalidAction(f"tool call arguments are not valid JSON: {exc.msg}") from None
        _check_arguments_text(text)
    if not isinstance(args, dict):
        raise InvalidAction(f"tool call arguments must be a JSON object, got {type(args).__name__}")
    extra = {k: v for k, v in call.items() if k in ("actor", "tenant", "id")}
    return {"kind": name, "params": args, **extra}


_LONG_NUMBER = re.compile(r"[0-9]{16}")  # 2**53 has 16 digits


def _check_arguments_text(text: str) -> None:
    """Refuse what orjson reads without a word but another reader of the same text would
    read otherwise: a key given twice (orjson keeps the last one, a tool that keeps the
    first would run another value than the one checked) and integers JSON numbers do not
    hold exactly (orjson reads an integer beyond 64 bits as a float, changing it unseen)."""

    def exact(literal: str) -> int:
        value = int(literal)
        if not -MAX_EXACT_INT <= value <= MAX_EXACT_INT:
            raise InvalidAction(
                "tool call arguments hold an integer outside the exact JSON range "
                "(-(2**53 - 1) .. 2**53 - 1); send it as a string"
            )
        return value

    try:
        json.loads(
            text,
            parse_int=exact if _LONG_NUMBER.search(text) else None,
            object_pairs_hook=unique_keys,
        )
    except DuplicateKey as exc:
        raise InvalidAction(
            f"tool call arguments give the key {exc.key!r} more than once; which value "
            "the tool would use depends on its JSON reader, so none is taken"
        ) from None
    except RecursionError:  # orjson read it; the stdlib parser is the one out of depth
        raise ActionTooLarge(
            f"tool call arguments are nested deeper than {MAX_DEPTH} levels"
        ) from None
    except json.JSONDecodeError as exc:  # orjson read it: never seen, but never a 500
        raise InvalidAction(f"tool call arguments are not valid JSON: {exc.msg}") from None


class DuplicateKey(ValueError):
    """A JSON object gives one key twice (see `unique_keys`)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`json.loads`'s object_pairs_hook refusing a key given twice (`DuplicateKey`): JSON
    readers disagree on which value counts (json.loads and orjson keep the last)."""
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise DuplicateKey(key)
        data[key] = value
    return data


def check_data(value: Any, what: str) -> dict[str, Any]:
    """Validate a context or item mapping with the same limits as an action."""
    data = value if type(value) is dict else as_mapping(value, what)
    encode(data, what, sort=False)
    return data


def digest(data: Any, what: str) -> str:
    """SHA-256 hex of the sorted, compact JSON encoding of `data`."""
    return "sha256:" + sha256(encode(data, what)).hexdigest()


# orjson writes dataclasses and datetimes as objects and texts: they are refused instead
# (rules would read the Python object, the digest and the record its JSON).
_PLAIN = (
    orjson.OPT_STRICT_INTEGER | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
)
_SORTED = _PLAIN | orjson.OPT_SORT_KEYS


def encode(data: Any, what: str, *, sort: bool = True) -> bytes:
    """Encode JSON-like data (keys sorted unless `sort=False`), enforcing type, depth and
    size limits."""
    try:
        raw = orjson.dumps(data, option=_SORTED if sort else _PLAIN)
    except orjson.JSONEncodeError as exc:
        raise _encode_error(exc, what) from None
    if len(raw) > MAX_BYTES:
        raise ActionTooLarge(f"{what} is {len(raw)} bytes encoded; the limit is {MAX_BYTES}")
    try:
        _check_values(data, what)
    except RecursionError:  # a deep action met a deep caller: the walk is recursive
        raise ActionTooLarge(f"{what} is nested too deeply to check here") from None
    return raw


def _encode_error(exc: Exception, what: str) -> InvalidAction:
    text = str(exc)
    if "Recursion limit" in text:
        return ActionTooLarge(f"{what} is nested deeper than {MAX_DEPTH} levels")
    if "surrogates" in text or "UTF-8" in text:
        return InvalidAction(f"{what} holds text that is not valid UTF-8 ({text})")
    if "bytes" in text:
        return InvalidAction(f"{what} holds bytes; send text (UTF-8 str) instead")
    if "53-bit" in text or "64-bit" in text:
        # Beyond ±2**53 an integer is not exact in JSON numbers (RFC 8785 canonical form).
        return InvalidAction(
            f"{what} holds an integer outside the exact JSON range (-2**53, 2**53)"
        )
    if "Dict key must be str" in text:
        return InvalidAction(f"{what} has a non-string key; keys must be strings")
    return InvalidAction(
        f"{what} is not JSON-like ({text}); only dict, list, str, int, float, bool and None "
        "are allowed"
    )


_LEAVES = frozenset({str, int, bool, type(None)})


def _check_values(value: Any, what: str, depth: int = 1) -> None:
    """Refuse what orjson wrote but JSON does not hold: NaN and infinities (written as
    null), enums and UUIDs (written as their value and text, while rules would compare
    the Python object: a blocked id sent as a UUID would pass as another value); and
    nesting deeper than MAX_DEPTH."""
    kind = type(value)
    if kind is dict:
        if depth > MAX_DEPTH:
            raise ActionTooLarge(f"{what} is nested deeper than {MAX_DEPTH} levels")
        for item in value.values():
            if type(item) not in _LEAVES:
                _check_values(item, what, depth + 1)
    elif kind is list or kind is tuple:
        if depth > MAX_DEPTH:
            raise ActionTooLarge(f"{what} is nested deeper than {MAX_DEPTH} levels")
        for item in value:
            if type(item) not in _LEAVES:
                _check_values(item, what, depth + 1)
    elif kind is float:
        if not math.isfinite(value):
            raise InvalidAction(f"{what} holds {value!r}; numbers must be finite")
    elif kind not in _LEAVES:
        _check_subclass(value, what, depth)


def _check_subclass(value: Any, what: str, depth: int) -> None:
    """A subclass of a JSON type (a str enum, an OrderedDict) reads as that type; other
    values are refused."""
    if isinstance(value, dict):
        _check_values(dict(value), what, depth)
    elif isinstance(value, list | tuple):
        _check_values(list(value), what, depth)
    elif isinstance(value, float):
        _check_values(float(value), what, depth)
    elif not isinstance(value, str | int):
        raise InvalidAction(
            f"{what} is not JSON-like (it holds a {type(value).__name__}); only dict, list, "
            "str, int, float, bool and None are allowed"
        )
