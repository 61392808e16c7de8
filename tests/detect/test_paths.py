"""Field paths: parsing, per-place outcomes, concrete names, copies and in-place updates."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guard.detect._paths import (
    JSON,
    Problem,
    Target,
    format_concrete,
    json_copy,
    parse_concrete,
    parse_field,
    resolve,
    update_at,
)

P = pytest.param


@pytest.mark.parametrize(
    ("field", "steps"),
    [
        P("params.message", ("params", "message"), id="dotted"),
        P("params.attachments[*].text", ("params", "attachments", None, "text"), id="wildcard"),
        P("params.attachments[2].text", ("params", "attachments", 2, "text"), id="index"),
        P("params.args$.body", ("params", "args", JSON, "body"), id="json"),
        P("params.args$[0]", ("params", "args", JSON, 0), id="json-list"),
        P("params.args$", ("params", "args", JSON), id="json-root"),
    ],
)
def test_parse_field(field: str, steps: tuple[Any, ...]) -> None:
    assert parse_field(field) == steps


@pytest.mark.parametrize("field", ["", "a..b", "[0].x", "a$b", "a b", "a[x]", "a[-1]"])
def test_parse_field_rejects(field: str) -> None:
    with pytest.raises(ValueError, match="field path"):
        parse_field(field)


def test_resolve_yields_one_outcome_per_place() -> None:
    data = {"p": {"items": [{"t": "a"}, {}, {"t": 3}, None, {"t": json.dumps({"x": "b", "n": 1})}]}}
    outcomes = list(resolve(data, parse_field("p.items[*].t")))
    assert [(format_concrete(o.path), type(o).__name__) for o in outcomes] == [
        ("p.items[0].t", "Target"),
        ("p.items[1].t", "Problem"),
        ("p.items[2].t", "Target"),
        ("p.items[3]", "Problem"),
        ("p.items[4].t$.x", "Target"),
        ("p.items[4].t$.n", "Target"),
    ]
    kinds = [o.kind for o in outcomes if isinstance(o, Problem)]
    assert kinds == ["missing", "missing"]
    assert [o.text for o in outcomes if isinstance(o, Target)] == ["a", "3", "b", "1"]


def test_lists_and_objects_in_a_field_are_resolved_leaf_by_leaf() -> None:
    data = {
        "m": [
            "a",
            {"inner": "b", "n": 4165550199, "flag": True, "none": None, "e mail": "c"},
            [["d"]],
            [],
            json.dumps({"j": "e"}),
        ]
    }
    outcomes = list(resolve(data, parse_field("m")))
    assert [
        (format_concrete(o.path), o.text if isinstance(o, Target) else o.kind) for o in outcomes
    ] == [
        ("m[0]", "a"),
        ("m[1].inner", "b"),
        ("m[1].n", "4165550199"),
        ('m[1]["e mail"]', "c"),
        ("m[2][0][0]", "d"),
        ("m[4]$.j", "e"),
    ]
    for o in outcomes:
        assert parse_concrete(format_concrete(o.path)) == o.path


def test_empty_and_too_deep_containers() -> None:
    [empty] = resolve({"m": {"a": None, "b": []}}, parse_field("m"))
    assert isinstance(empty, Problem) and (empty.kind, empty.message) == (
        "missing",
        "holds no text",
    )
    deep: Any = "x"
    for _ in range(400):
        deep = [deep]
    [too_deep] = resolve({"m": deep}, parse_field("m"))
    assert isinstance(too_deep, Problem) and too_deep.kind == "error"
    assert "levels deep" in too_deep.message


def test_json_expansion_can_be_turned_off() -> None:
    data = {"a": json.dumps({"x": "y"})}
    [only] = resolve(data, parse_field("a"), expand_json=False)
    assert isinstance(only, Target) and only.text == data["a"]


KEYS = st.text(min_size=1, max_size=6)
STEPS = st.lists(st.one_of(KEYS, st.integers(0, 99), st.just(JSON)), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(KEYS, STEPS)
def test_concrete_paths_round_trip(first: str, rest: list[Any]) -> None:
    path = (first, *rest)
    assert parse_concrete(format_concrete(path)) == path


def test_json_copy_survives_any_depth_and_shares_nothing() -> None:
    data: Any = "leaf"
    for _ in range(50_000):
        data = {"d": [data]}
    copied = json_copy(data)
    node, original = copied, data
    for _ in range(50_000):
        assert node is not original
        node, original = node["d"][0], original["d"][0]
    assert node == "leaf"


def test_update_at_rewrites_inside_json_strings() -> None:
    data = {"a": json.dumps({"b": ["x", "y"]})}
    update_at(data, parse_concrete("a$.b[1]"), str.upper)
    assert json.loads(data["a"]) == {"b": ["x", "Y"]}
