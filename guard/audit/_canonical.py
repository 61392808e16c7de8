"""Canonical JSON (RFC 8785, JCS): the exact bytes an audit record is hashed and stored as."""

from __future__ import annotations

from typing import Any

import rfc8785
from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, to_json

from guard._exceptions import AuditError

__all__ = ["canonical_json"]

_MAX_SAFE_INT = 2**53 - 1
_PLAIN = frozenset({str, bool, type(None)})


class _NeedsReference(Exception):
    """The value holds something only the reference serialiser handles exactly."""


def canonical_json(obj: object) -> bytes:
    """Serialise a JSON-like value or a pydantic model to RFC 8785 canonical UTF-8 bytes."""
    data = obj.model_dump(mode="json") if isinstance(obj, BaseModel) else obj
    try:
        return _fast_dumps(data)
    except (_NeedsReference, TypeError, PydanticSerializationError, RecursionError):
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
    # rfc8785 is pure Python (~100 us for a decision record). Once keys are sorted, ints are
    # in the safe range and floats are where every shortest-repr printer agrees with
    # ECMAScript, pydantic-core's Rust serialiser writes the same bytes; anything else
    # takes the reference path. tests/audit/test_canonical.py checks both agree.
    return to_json(_jcs_ready(data))


def _jcs_ready(value: Any) -> Any:
    """A copy with keys in JCS order and numbers in JCS form, or _NeedsReference."""
    kind = type(value)
    if kind is dict:
        ordered = {}
        for key in _sorted_keys(value):
            item = value[key]
            ordered[key] = item if type(item) in _PLAIN else _jcs_ready(item)
        return ordered
    if kind is list or kind is tuple:
        return [v if type(v) in _PLAIN else _jcs_ready(v) for v in value]
    if kind is int and -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
        return value
    if kind is float:
        return _jcs_float(value)
    if kind in _PLAIN:
        return value
    raise _NeedsReference


def _sorted_keys(mapping: dict[Any, Any]) -> list[str]:
    joined = "".join(mapping)  # TypeError (-> reference path) unless every key is a str
    # JCS sorts by UTF-16 code units, Python by code points: they agree within the BMP.
    if not joined.isascii() and max(joined) > "\uffff":
        raise _NeedsReference
    return sorted(mapping)


def _jcs_float(value: float) -> float | int:
    if value.is_integer():
        if abs(value) <= _MAX_SAFE_INT:
            return int(value)  # JCS writes 3.0 as 3, exactly like the integer 3
        raise _NeedsReference
    if 1e-4 <= abs(value) < 1e16:
        return value
    raise _NeedsReference
