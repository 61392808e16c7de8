"""kind, actor and tenant are ids: a control character in one is refused, everywhere."""

from __future__ import annotations

import pytest

from guard import Guard, InvalidAction


@pytest.mark.parametrize(
    ("action", "key", "code"),
    [
        ({"kind": "search\x00"}, "kind", "U+0000"),
        ({"kind": "search", "actor": "jo\nroot"}, "actor", "U+000A"),
        ({"kind": "search", "tenant": "acme\x1b[2J"}, "tenant", "U+001B"),
        ({"kind": "search", "actor": "a\x85b"}, "actor", "U+0085"),
    ],
)
def test_a_control_character_in_an_id_is_refused(action: dict, key: str, code: str) -> None:
    g = Guard.from_policy("ranking")
    expected = f"'{key}' holds the control character {code.replace('+', '[+]')}"
    with pytest.raises(InvalidAction, match=expected):
        g.check(action)


@pytest.mark.parametrize("actor", ["jo smith", "jöhn", "用户-7", "jo\u00a0smith", "a\u200bb"])
def test_printable_and_format_characters_stay_accepted(actor: str) -> None:
    g = Guard.from_policy("ranking")
    assert g.check({"kind": "search", "actor": actor}).actor == actor


def test_a_ranking_actor_or_tenant_is_held_to_the_same() -> None:
    g = Guard.from_policy("ranking")
    with pytest.raises(InvalidAction, match="U\\+0000"):
        g.rank([{"id": "a"}], actor="u\x00")
    with pytest.raises(InvalidAction, match="U\\+0009"):
        g.rank([{"id": "a"}], tenant="t\t1")


def test_a_tool_call_id_from_arguments_is_held_to_the_same() -> None:
    g = Guard.from_policy("ranking")
    call = {"type": "function", "function": {"name": "search\r", "arguments": "{}"}}
    with pytest.raises(InvalidAction, match="U\\+000D"):
        g.check(call)
