"""Pack fields that loaded loosely: literal conditions, a boolean cap, a float version."""

from __future__ import annotations

import pytest

from guard._exceptions import PolicyError
from guard.policy import parse

RULE = """\
name: t
version: 1
rules:
  - id: r
    when: {when}
"""


@pytest.mark.parametrize(
    "when",
    [
        pytest.param('"5"', id="number"),
        pytest.param("'\"x\"'", id="string"),
        pytest.param('"[1]"', id="list"),
        pytest.param('"{}"', id="object"),
        pytest.param('"None"', id="none"),
        pytest.param('"(3)"', id="parenthesised"),
    ],
)
def test_a_literal_condition_that_is_not_a_boolean_is_a_load_error(when: str) -> None:
    with pytest.raises(PolicyError, match=r"a condition must be true or false") as info:
        parse(RULE.format(when=when), file="t.yaml")
    assert info.value.line == 5


@pytest.mark.parametrize(
    "when",
    [
        pytest.param("true", id="yaml-true"),
        pytest.param('"false"', id="false"),
        pytest.param('"1 + 1 > 1"', id="comparison"),
    ],
)
def test_boolean_conditions_still_load(when: str) -> None:
    assert parse(RULE.format(when=when)).rules[0].id == "r"


def test_a_boolean_cap_max_is_a_load_error() -> None:
    pack = (
        "name: t\nversion: 1\nrules:\n  - id: r\n    scope: list\n"
        "    cap: {by: item.a, max: true}\n"
    )
    with pytest.raises(PolicyError, match=r"cap\.max"):
        parse(pack)


def test_a_float_version_says_what_a_version_is() -> None:
    with pytest.raises(PolicyError, match=r"version: must be an integer or a string \(got 1\.5\)"):
        parse("name: t\nversion: 1.5\nrules: []\n")


@pytest.mark.parametrize(
    ("scope", "path"),
    [pytest.param("action", "kind", id="kind"), pytest.param("item", "item.id", id="item-id")],
)
def test_redacting_what_an_action_or_item_is_is_a_load_error(scope: str, path: str) -> None:
    pack = (
        f"name: t\nversion: 1\nrules:\n  - id: r\n    scope: {scope}\n    when: 'true'\n"
        f"    effect: redact\n    redact: [{path}]\n"
    )
    with pytest.raises(PolicyError, match="cannot be redacted"):
        parse(pack)


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param('  - id: "r\\n"\n    when: "true"\n', id="rule-id"),
        pytest.param(
            '  - id: r\n    when: "true"\n    effect: redact\n    redact: ["params.card\\n"]\n',
            id="redact-path",  # would never match: the card would not be redacted
        ),
    ],
)
def test_a_trailing_newline_is_not_part_of_a_valid_name(rule: str) -> None:
    with pytest.raises(PolicyError):
        parse(f"name: t\nversion: 1\nrules:\n{rule}")
