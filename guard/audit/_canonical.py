"""Canonical JSON (RFC 8785, JCS): the exact bytes an audit record is hashed and stored as."""

from __future__ import annotations

from typing import Any

import orjson
import rfc8785
from pydantic import BaseModel

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
    except (_NeedsReference, TypeError, RecursionError):  # orjson's errors are TypeErrors
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
    # rfc8785 is pure Python (~100 us for a decision record). When keys are BMP text, ints
    # are in the safe range and floats are non-integral within [1e-4, 1e16), orjson with
    # sorted keys writes exactly the JCS bytes; integral floats are rewritten as ints
    # (JCS writes 3.0 as 3) and anything else takes the reference path.
    # tests/audit/test_canonical.py checks that both paths agree on random values.
    return orjson.dumps(_jcs_ready(data), option=orjson.OPT_SORT_KEYS)


def _jcs_ready(value: Any) -> Any:
    """`value` itself if orjson already writes it as JCS, else a copy that it will."""
    kind = type(value)
    if kind is dict:
        return _ready_dict(value)
    if kind is list or kind is tuple:
        return _ready_list(value)
    if kind in _PLAIN:
        return value
    if kind is int and -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
        return value
    if kind is float:
        return _ready_float(value)
    raise _NeedsReference


def _ready_dict(mapping: dict[Any, Any]) -> dict[Any, Any]:
    keys = "".join(mapping)  # TypeError (-> reference path) unless every key is a str
    # JCS sorts keys by UTF-16 code units, orjson by code points: they agree within the BMP.
    if not keys.isascii() and max(keys) > "\uffff":
        raise _NeedsReference
    copy: dict[Any, Any] | None = None
    for key, item in mapping.items():
        if type(item) not in _PLAIN and (ready := _jcs_ready(item)) is not item:
            copy = dict(mapping) if copy is None else copy
            copy[key] = ready
    return mapping if copy is None else copy


def _ready_list(items: list[Any] | tuple[Any, ...]) -> list[Any] | tuple[Any, ...]:
    copy: list[Any] | None = None
    for n, item in enumerate(items):
        if type(item) not in _PLAIN and (ready := _jcs_ready(item)) is not item:
            copy = list(items) if copy is None else copy
            copy[n] = ready
    return items if copy is None else copy


def _ready_float(value: float) -> float | int:
    if value.is_integer():
        if abs(value) <= _MAX_SAFE_INT:
            return int(value)
        raise _NeedsReference
    if 1e-4 <= abs(value) < 1e16:
        return value
    raise _NeedsReference
