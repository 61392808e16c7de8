from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum, IntEnum

import orjson
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from guard._exceptions import AuditError
from guard._models import PiiFinding
from guard.audit import canonical_json
from guard.audit._canonical import _orjson_as_is, canonical_parsed


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param({"b": 1, "a": [1, 2]}, b'{"a":[1,2],"b":1}', id="keys-sorted"),
        pytest.param({"a": 3.0}, b'{"a":3}', id="integral-float-as-int"),
        pytest.param({"a": -0.0}, b'{"a":0}', id="negative-zero"),
        pytest.param({"a": 1e21}, b'{"a":1e+21}', id="large-float-exponent"),
        pytest.param({"a": 1e-7}, b'{"a":1e-7}', id="small-float-exponent"),
        pytest.param({"a": 0.00001}, b'{"a":0.00001}', id="small-float-positional"),
        pytest.param({"a": 9999999999999998.0}, b'{"a":9999999999999998}', id="above-2-53"),
        pytest.param({"a": "é\n\u001f"}, '{"a":"é\\n\\u001f"}'.encode(), id="string-escapes"),
        pytest.param({"\u20ac": 1, "\U0001f600": 2, "\ufb33": 3}, None, id="utf16-key-order"),
        pytest.param([True, False, None, "x"], b'[true,false,null,"x"]', id="literals"),
        pytest.param(("a", 1), b'["a",1]', id="tuple-as-array"),
    ],
)
def test_known_serialisations(value: object, expected: bytes | None) -> None:
    assert canonical_json(value) == (expected or rfc8785.dumps(value))  # type: ignore[arg-type]


def test_rfc8785_utf16_key_order() -> None:
    # RFC 8785 section 3.2.3: keys sort by UTF-16 code units, so U+1F600 (D83D DE00)
    # sorts before U+FB33 even though its code point is larger.
    out = canonical_json({"\U0001f600": 1, "\ufb33": 2})
    assert out.decode().index("\U0001f600") < out.decode().index("\ufb33")


def test_the_callers_value_is_not_changed() -> None:
    nested = {"n": 3.0}
    value = {"score": 1.0, "items": [2.0, nested], "t": (4.0,)}
    canonical_json(value)
    assert value == {"score": 1.0, "items": [2.0, {"n": 3.0}], "t": (4.0,)}
    assert type(value["score"]) is float and type(nested["n"]) is float


def test_pydantic_model_is_dumped_in_json_mode() -> None:
    finding = PiiFinding(entity_type="EMAIL_ADDRESS", field="m", start=0, end=3, score=0.5)
    assert canonical_json(finding) == rfc8785.dumps(finding.model_dump(mode="json"))


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"a": math.nan}, id="nan"),
        pytest.param({"a": math.inf}, id="inf"),
        pytest.param({"a": [-math.inf]}, id="nested-negative-inf"),
    ],
)
def test_non_finite_floats_are_refused(value: object) -> None:
    with pytest.raises(AuditError, match="non-finite"):
        canonical_json(value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"a": object()}, id="object"),
        pytest.param({1: "a"}, id="int-key"),
        pytest.param({"a": b"bytes"}, id="bytes"),
        pytest.param({"a": 2**60}, id="unsafe-int"),
        pytest.param({"a": "\ud800"}, id="lone-surrogate"),
    ],
)
def test_non_json_values_are_refused(value: object) -> None:
    with pytest.raises(AuditError, match="not JSON-serialisable"):
        canonical_json(value)


_keys = st.text(max_size=4)
_floats = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(
    [1e-4, 9.999e-5, 1.00001e-4, 1e16, 1e16 - 2, 9.999999999999998e15, 2.0**53, 2.0**53 + 2]
    + [1e21, 1e-7, 0.1, -0.0, 5e-324, 1.7976931348623157e308]
    # orjson writes [1e-6, 1e-5) with an exponent, JCS without one
    + [1e-6, 1.5e-6, 8.5e-6, -8.5e-6, 9.999999999999999e-6, 1e-5, 1.00001e-5, 9.9e-7]
    + [0.0, 3.0, -3.0, 1e15 + 0.5, 123456.789, 1e20, 1e22]
)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | _floats
    | st.text(max_size=8)
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400)
@given(_json)
def test_fast_path_matches_the_reference_implementation(value: object) -> None:
    try:
        expected = rfc8785.dumps(value)  # type: ignore[arg-type]
    except (rfc8785.CanonicalizationError, UnicodeError):
        with pytest.raises(AuditError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


class _Colour(Enum):
    RED = "red"


class _Level(IntEnum):
    HIGH = 3


class _Tag(str, Enum):
    A = "a"


class _Text(str):
    pass


@dataclass
class _Point:
    x: int


# What orjson writes natively but JCS refuses or writes otherwise, and what the fast path
# must send to the slower ones; also text that looks like a float's ".0" or exponent.
_exotic = st.sampled_from(
    [
        math.nan,
        math.inf,
        -math.inf,
        uuid.UUID(int=7),
        _Colour.RED,
        _Level.HIGH,
        _Tag.A,
        _Text("t"),
        (1, 2.0),
        _Point(1),
        datetime(2024, 5, 1, tzinfo=timezone.utc),
        orjson.Fragment(b"[1.0]"),
        "v1.0",
        "3e-7",
        "x:1e+5,",
        "\U0001f600",
        2**53,
        -(2**53),
    ]
)
_mixed = st.recursive(
    _scalars | _exotic,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(_keys | st.sampled_from(["\U0001f600", "\ufb33", "a"]), inner, max_size=4)
    ),
    max_leaves=12,
)


def _jcs_digits_as_doubles(value: object) -> object:
    """An integer past 2**53 - 1 written exactly as JCS writes some double (what a record
    holding 1e16 reads back as) is that double; the reference refuses the integer itself."""
    if type(value) is dict:
        return {k: _jcs_digits_as_doubles(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return [_jcs_digits_as_doubles(v) for v in value]  # type: ignore[attr-defined]
    if type(value) is int and abs(value) > 2**53 - 1 and abs(value) < 1e21:
        if rfc8785.dumps(float(value)) == str(value).encode():
            return float(value)
    return value


@settings(max_examples=400)
@given(_mixed)
def test_every_path_matches_the_reference_implementation(value: object) -> None:
    try:
        expected = rfc8785.dumps(_jcs_digits_as_doubles(value))  # type: ignore[arg-type]
    except (rfc8785.CanonicalizationError, UnicodeError):
        with pytest.raises(AuditError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected
    assert canonical_parsed(value) == (expected, orjson.loads(expected))


def test_a_decision_record_takes_the_fast_path() -> None:
    finding = PiiFinding(entity_type="EMAIL_ADDRESS", field="m", start=0, end=3, score=0.5)
    record = {"id": "d1", "pii": [finding.model_dump(mode="json")], "timings_us": {"a": 12.5}}
    assert _orjson_as_is(record) is not None


def test_a_record_read_back_with_a_large_whole_float_canonicalises_again() -> None:
    """JCS writes 1e16 as 10000000000000000, which reads back as an integer past 2**53 - 1:
    as the double it is, it gives the same bytes (so a proof of such a record verifies);
    an integer no double holds stays refused."""
    for value in (1e16, 2.0**53, -3e17, 1.2345678901234566e17, 9.5e20):
        first = canonical_json({"a": value})
        assert canonical_json(orjson.loads(first)) == first
    with pytest.raises(AuditError, match="safe integer"):
        canonical_json({"a": 2**53 + 1})
