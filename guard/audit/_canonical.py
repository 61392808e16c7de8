"""Canonical JSON (RFC 8785, JCS): the exact bytes an audit record is hashed and stored as."""

from __future__ import annotations

import re
from typing import Any

import orjson
import rfc8785
from pydantic import BaseModel

from guard._exceptions import AuditError
from guard._validate import MAX_EXACT_INT

__all__ = ["canonical_json", "canonical_parsed"]

_PLAIN = frozenset({str, bool, type(None)})

# Three ways to the same bytes, fastest first; tests/audit/test_canonical.py checks each
# against the rfc8785 library on random values.
#
# 1. orjson as is. With these options it refuses integers beyond 2**53 - 1, subclasses of
#    str, int, dict and list, dates and dataclasses (all handed to _refuse). Its text is
#    then JCS text if it reads back equal to the value (which rules out what it writes but
#    JCS refuses or writes otherwise: nan and inf as null, a UUID, an Enum, a tuple), if no
#    key lies beyond U+FFFF (JCS sorts keys by UTF-16 code units, orjson by code points),
#    and if no float is integral or in [1e-6, 1e-5): orjson writes those as 3.0, -0.0,
#    1e+16 and 8.5e-6 where JCS writes 3, 0, 10000000000000000 and 0.0000085, and every
#    other float as JCS does. The patterns below find such floats; where they match inside
#    a string instead, the value merely takes path 2.
# 2. orjson on a copy with integral floats made ints, when every float is within
#    [1e-4, 1e16) (_jcs_ready).
# 3. rfc8785, pure Python and some 100 us a record, for anything else.
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_STRICT_INTEGER
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)
_INTEGRAL = re.compile(rb"\.0(?![0-9])")
_EXPONENT = re.compile(rb"e[-+][0-9]")  # a float's exponent when a digit comes before it
_ASTRAL = re.compile(rb"[\xf0-\xf4]")  # UTF-8 lead bytes of characters beyond U+FFFF


class _NeedsReference(Exception):
    """The value holds something only the reference serialiser handles exactly."""


def canonical_json(obj: object) -> bytes:
    """Serialise a JSON-like value or a pydantic model to RFC 8785 canonical UTF-8 bytes."""
    data = obj.model_dump(mode="json") if isinstance(obj, BaseModel) else obj
    fast = _orjson_as_is(data)
    return _copy(fast[0]) if fast is not None else _canonical_slowly(data)


def canonical_parsed(data: object) -> tuple[bytes, Any]:
    """`canonical_json(data)` and the value those bytes parse back to (what readers see)."""
    fast = _orjson_as_is(data)
    if fast is not None:
        return _copy(fast[0]), fast[1]
    out = _canonical_slowly(data)
    return out, orjson.loads(out)


def _copy(out: bytes) -> bytes:
    # orjson's bytes keep the allocation they were written in, several times their size,
    # and many of them kept at once also cost page faults: hand out an exact-size copy.
    return memoryview(out).tobytes()


def _orjson_as_is(data: object) -> tuple[bytes, Any] | None:
    """orjson's bytes and what they parse to, if they are the JCS bytes (path 1), else None."""
    try:
        out = orjson.dumps(data, option=_ORJSON_OPTIONS, default=_refuse)
    except TypeError:  # orjson's errors are TypeErrors
        return None
    # bytes.find is a memchr scan, many times faster than a regex: the patterns run only
    # where their first bytes occur.
    if b".0" in out and _INTEGRAL.search(out) or not out.isascii() and _ASTRAL.search(out):
        return None
    if (b"e-" in out or b"e+" in out) and any(
        48 <= out[m.start() - 1] <= 57
        for m in _EXPONENT.finditer(out)  # 0-9
    ):
        return None
    parsed = orjson.loads(out)
    return (out, parsed) if parsed == data else None


def _refuse(value: object) -> None:
    raise TypeError


def _canonical_slowly(data: object) -> bytes:
    try:
        return _copy(orjson.dumps(_jcs_ready(data), option=orjson.OPT_SORT_KEYS))
    except (_NeedsReference, TypeError, RecursionError):  # orjson's errors are TypeErrors
        return _reference_dumps(data)


def _reference_dumps(data: Any) -> bytes:
    try:
        return rfc8785.dumps(_as_doubles(data))
    except rfc8785.FloatDomainError as exc:
        raise AuditError(
            f"audit record is not valid JSON: {exc}; non-finite floats (nan, inf, -inf) "
            "cannot be recorded, replace them with null or a string"
        ) from exc
    except (rfc8785.CanonicalizationError, RecursionError, UnicodeError) as exc:
        raise AuditError(f"audit record is not JSON-serialisable: {exc}") from exc


def _as_doubles(value: Any) -> Any:
    """`value` with integers beyond 2**53 - 1 that a double holds exactly made floats.

    JCS writes a whole float of 2**53 or more (1e16) as its digits (10000000000000000), so a
    record read back holds that integer: as the double it is, it canonicalises to the same
    bytes again, and its proof can be checked. Other integers past 2**53 - 1 stay refused."""
    kind = type(value)
    if kind is dict:
        return {k: _as_doubles(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_as_doubles(v) for v in value]
    if kind is int and not -MAX_EXACT_INT <= value <= MAX_EXACT_INT:
        try:
            double = float(value)
        except OverflowError:
            return value
        # the digits JCS writes for that double (its shortest form, zero-padded), or refused
        return double if rfc8785.dumps(double) == str(value).encode() else value
    return value


def _jcs_ready(value: Any) -> Any:
    """`value` itself if orjson already writes it as JCS, else a copy that it will."""
    kind = type(value)
    if kind is dict:
        return _ready_dict(value)
    if kind is list or kind is tuple:
        return _ready_list(value)
    if kind in _PLAIN:
        return value
    if kind is int and -MAX_EXACT_INT <= value <= MAX_EXACT_INT:
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
        if abs(value) <= MAX_EXACT_INT:
            return int(value)
        raise _NeedsReference
    if 1e-4 <= abs(value) < 1e16:
        return value
    raise _NeedsReference
