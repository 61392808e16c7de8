"""No policy text reaches compile(): the rendered code is the same whatever the keys and
literals say, and holds no quote, escape or foreign identifier."""

from __future__ import annotations

import re
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from guard.policy._expr import compile_expr
from guard.policy._inline import _SAFE_CHARS, build_plan

_NASTY = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "'",
            '"',
            "\\",
            "\n",
            "\r",
            "\u2028",
            "\u2029",
            "\x00",
            "__class__",
            "e) or __import__('os').system('id') or (e",
            "_c0",
            "_k1",
            "x" * 900,
            "\\x27",
            "{}",
            "ｅ",
            "_＿class＿_",
        ]
    ),
)
_SHAPES = [
    "params[{k}] == {v}",
    "params[{k}] != {v}",
    "params.a[{k}] in [{v}, {v}]",
    "context[{k}][0] < {v}",
    "startswith(params[{k}], {v})",
    "matches(params[{k}], {v})",
    "contains_any(params[{k}], [{v}])",
    "get(params[{k}], {v}) == {v}",
    "params[{k}] + {v} == {v}",
    "(params[{k}] if {v} else {v}) == {v}",
    "not (params[{k}] == {v} or params[{v}] == {k})",
]
_GENERATED = re.compile(r"_[a-z][0-9]+")


def _code(source: str) -> str | None:
    try:
        expr = compile_expr(source, rule_id="r")
    except Exception:
        return None
    if expr.inline is None:
        return None
    return _GENERATED.sub("_N0", expr.inline.code)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(_SHAPES), _NASTY, _NASTY)
def test_rendered_code_does_not_depend_on_policy_text(shape: str, key: str, value: str) -> None:
    source = shape.format(k=repr(key), v=repr(value))
    code = _code(source)
    if code is None:
        return
    assert _SAFE_CHARS.fullmatch(code), code
    assert "'" not in code and '"' not in code and "\\" not in code
    # The same shape with other text renders to the same code, up to generated names.
    assert code == _code(shape.format(k=repr("k"), v=repr("v")))


@settings(max_examples=60, deadline=None)
@given(_NASTY)
def test_plans_hold_no_policy_text(key: str) -> None:
    expr = compile_expr(f"params[{key!r}] == {key!r} and context.a == 1", rule_id="r")
    plan = build_plan([SimpleNamespace(when=expr)])
    assert plan is not None
    assert plan({"params": {key: key}, "context": {"a": 1}}) == [(0, True)]
