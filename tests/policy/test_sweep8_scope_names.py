"""A condition that reads a name its rule's scope never has (`item` in an action rule,
`params` in an item rule) could never be evaluated: every input would fail closed. It is a
load error naming the rule, the name and the fix, at the name's position."""

from __future__ import annotations

import pytest

from guard import Guard, Verdict
from guard._exceptions import PolicyError
from guard.policy import parse

HEAD = "name: p\nversion: 1\nrules:\n  - id: r\n"


@pytest.mark.parametrize(
    ("when", "name", "column"),
    [
        ("item.status == 'x'", "item", 12),
        ("params.a > 1 and get(item.x, 0) > 1", "item", 33),
        ("len(items) > 3", "items", 16),
    ],
)
def test_an_action_rule_reading_an_item_is_a_load_error(when: str, name: str, column: int) -> None:
    with pytest.raises(PolicyError) as info:
        parse(HEAD + f'    when: "{when}"\n', file="p.yaml")
    message = str(info.value)
    assert f"reads {name!r}" in message and "scope: item" in message
    assert (info.value.line, info.value.column) == (5, column)
    assert "\n" not in message


@pytest.mark.parametrize("name", ["params", "kind", "action", "attribution", "rationale"])
def test_an_item_rule_reading_the_action_is_a_load_error(name: str) -> None:
    text = HEAD + f"    scope: item\n    when: |\n      item.a == 1 or\n      has({name}.x)\n"
    with pytest.raises(PolicyError, match=f"reads {name!r}") as info:
        parse(text, file="p.yaml")
    assert (info.value.line, info.value.column) == (8, 11)


def test_names_both_scopes_have_still_load() -> None:
    pack = parse(
        HEAD
        + "    when: context.x == 1 and get(score, 0) > 0.5 and has(actor)\n"
        + "  - id: i\n    scope: item\n"
        + "    when: context.x == 1 and get(score, 0) > 0.5 and has(tenant) and len(items) > 0\n"
    )
    assert [r.id for r in pack.rules] == ["r", "i"]


def test_a_loop_variable_shadowing_nothing_is_not_a_scope_name() -> None:
    pack = parse(HEAD + "    when: any(x > 1 for x in params.xs)\n")
    decision = Guard([pack]).check({"kind": "k", "params": {"xs": [2]}})
    assert decision.verdict is Verdict.DENY
