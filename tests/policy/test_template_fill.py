"""Message templates: the scalar fast path writes exactly what the general path writes."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from guard.policy._template import MAX_FILLED, _Text, fill_parts, split_template

SCALARS = st.one_of(
    st.text(max_size=300),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
)


def _general(value: Any) -> str:
    text = _Text()
    text.value(value, "v", None, quote=False)
    return text.result()


@given(SCALARS)
def test_a_scalar_fills_as_the_general_path_writes_it(value: Any) -> None:
    parts = split_template("[{v}]")
    assert fill_parts(parts, {"v": value}) == f"[{_general(value)}]"


def test_spellings_and_cut() -> None:
    parts = split_template("{a} {b} {c} {d} {e}")
    env = {"a": True, "b": None, "c": "x" * (MAX_FILLED + 50), "d": 2**60, "e": 700}
    assert fill_parts(parts, env) == f"true null {'x' * MAX_FILLED} {2**60} 700"


def test_a_masked_field_never_takes_the_fast_path() -> None:
    parts = split_template("to {params.phone}")
    masked = fill_parts(parts, {"params": {"phone": "416-555-0199"}}, lambda k, v: "<PHONE>")
    assert masked == "to <PHONE>"
