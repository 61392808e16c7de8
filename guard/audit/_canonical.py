"""Canonical JSON (RFC 8785, JCS): the exact bytes an audit record is hashed and stored as."""

from __future__ import annotations

import json
import math
from typing import Any

import rfc8785
from pydantic import BaseModel

from guard._exceptions import AuditError

__all__ = ["canonical_json"]

_MAX_SAFE_INT = 2**53 - 1
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)


class _NeedsReference(Exception):
    """The value holds something only the reference serialiser handles exactly."""


def canonical_json(obj: object) -> bytes:
    """Serialise a JSON-like value or a pydantic model to RFC 8785 canonical UTF-8 bytes."""
    data = obj.model_dump(mode="json") if isinstance(obj, BaseModel) else obj
    try:
        return _fast_dumps(data)
    except (_NeedsReference, UnicodeEncodeError, RecursionError):
        return _reference_dumps(data)


def _reference_dumps(data: Any) -> bytes:
    try:
        return rfc8785.dumps(data)
    except rfc8785.FloatDomainError as exc:
        raise AuditError(
            f"audit record is not valid JSON: {exc}; non-finite floats (nan, inf, -inf) "
            "cannot be recorded, replace them with null or a string"
        ) from exc
    except (rfc8785.CanonicalizationError, RecursionError, UnicodeError) as exc:
        raise AuditError(f"audit record is not JSON-serialisable: {exc}") from exc


def _fast_dumps(data: object) -> bytes:
    # The C json encoder gives JCS bytes once floats are in the range where Python's repr
    # and ECMAScript's Number.toString agree; anything else goes to the reference encoder.
    # tests/audit/test_canonical.py checks both paths agree on random values.
    return _ENCODER.encode(_jcs_ready(data)).encode("utf-8")


def _jcs_ready(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        return _safe_int(value)
    if kind is float:
        return _safe_float(value)
    if kind is dict:
        return {_safe_key(k): _jcs_ready(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_jcs_ready(v) for v in value]
    raise _NeedsReference


def _safe_int(value: int) -> int:
    if -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
        return value
    raise _NeedsReference


def _safe_float(value: float) -> float | int:
    if not math.isfinite(value):
        raise _NeedsReference
    if value.is_integer() and abs(value) <= _MAX_SAFE_INT:
        return int(value)  # JCS writes 3.0 as 3, exactly like the integer 3
    if 1e-4 <= abs(value) < 1e16:
        return value
    raise _NeedsReference


def _safe_key(key: object) -> str:
    # JCS sorts keys by UTF-16 code units; Python sorts by code point. They agree on BMP text.
    if type(key) is str and (key.isascii() or max(key) <= "\uffff"):
        return key
    raise _NeedsReference
