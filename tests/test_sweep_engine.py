"""New-user findings on the Python API: batch errors name the action, odd URLs and names."""

from __future__ import annotations

import os

import pytest

from guard import Guard
from guard._exceptions import ActionTooLarge, AuditError, InvalidAction, PolicyError
from guard.audit import open_audit

PG_URL = os.environ.get("GUARD_TEST_POSTGRES_URL")


@pytest.fixture
def guard() -> Guard:
    return Guard.from_policy("agent-tools")


def test_a_bad_action_in_a_batch_is_named_by_its_index(guard: Guard) -> None:
    good = {"kind": "search", "params": {}}
    with pytest.raises(InvalidAction, match=r"^action #2: action needs a non-empty string"):
        guard.check_batch([good, good, {"params": {}}])


def test_a_batch_keeps_the_error_class(guard: Guard) -> None:
    deep: dict[str, object] = {}
    node = deep
    for _ in range(300):
        node["a"] = {}
        node = node["a"]  # type: ignore[assignment]
    with pytest.raises(ActionTooLarge, match=r"^action #1: "):
        guard.check_batch([{"kind": "search"}, {"kind": "search", "params": deep}])


@pytest.mark.parametrize(
    "actions",
    [
        pytest.param({"kind": "search"}, id="a-dict"),
        pytest.param("search", id="a-str"),
        pytest.param(b"[]", id="bytes"),
        pytest.param(7, id="an-int"),
    ],
)
def test_a_batch_that_is_not_a_list_says_so(guard: Guard, actions: object) -> None:
    with pytest.raises(InvalidAction, match=r"^actions must be a list of mappings, got "):
        guard.check_batch(actions)  # type: ignore[arg-type]


def test_an_unknown_pack_name_names_no_made_up_place(guard: Guard) -> None:
    with pytest.raises(PolicyError) as info:
        guard.check({"kind": "search"}, policy="nope")
    assert str(info.value) == "no loaded pack named 'nope'; loaded: agent-tools"


def test_a_located_policy_error_still_names_its_place() -> None:
    error = PolicyError("bad", file="p.yaml", line=3, column=5, text="x")
    assert str(error) == "bad in 'x' (p.yaml:3:5)"


def test_the_postgres_scheme_is_not_refused_as_unknown() -> None:
    # postgres:// (as Heroku and many tools write it) is PostgreSQL, not an unknown scheme.
    with pytest.raises(AuditError) as info:
        open_audit("postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
    assert "unsupported audit URL" not in str(info.value)


@pytest.mark.skipif(PG_URL is None, reason="GUARD_TEST_POSTGRES_URL is not set")
def test_the_postgres_scheme_opens_a_log() -> None:
    assert PG_URL is not None
    url = PG_URL.replace("postgresql://", "postgres://", 1)
    log = open_audit(url)
    try:
        assert log.size >= 0
    finally:
        log.close()


def _tool_call(arguments: str) -> dict[str, object]:
    return {"type": "function", "function": {"name": "search", "arguments": arguments}}


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param('{"n": 99999999999999999999}', id="beyond-64-bits"),
        pytest.param('{"n": -99999999999999999999}', id="negative"),
        pytest.param('{"n": 9007199254740992}', id="2**53"),
        pytest.param('{"a": [1, {"n": 123456789012345678}]}', id="nested"),
    ],
)
def test_tool_call_integers_beyond_json_range_are_refused(guard: Guard, arguments: str) -> None:
    # orjson reads integers beyond 64 bits as floats: refused, never changed unseen.
    with pytest.raises(InvalidAction, match="outside the exact JSON range"):
        guard.check(_tool_call(arguments))


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param('{"n": 9007199254740991}', id="2**53-1"),
        pytest.param('{"n": 12345678901234567.5}', id="a-float"),
        pytest.param('{"q": "order 12345678901234567890"}', id="digits-in-a-string"),
    ],
)
def test_tool_call_numbers_in_range_pass(guard: Guard, arguments: str) -> None:
    decision = guard.check(_tool_call(arguments))
    assert decision.final_action is not None


def test_deep_tool_call_arguments_are_refused_cleanly(guard: Guard) -> None:
    text = '{"n": 12345678901234567890, "d": ' + "[" * 250 + "]" * 250 + "}"
    with pytest.raises(InvalidAction):
        guard.check(_tool_call(text))


def test_a_rankings_final_action_lists_the_kept_items_only() -> None:
    guard = Guard.from_policy("ranking", audit="memory://")
    items = [
        {"id": "a", "score": 0.9, "status": "suspended"},
        {"id": "b", "score": 0.8, "verified": True},
        {"id": "c", "score": 0.7, "verified": True},
    ]
    decision = guard.rank(items, query="plumber")
    assert decision.final_action is not None
    assert decision.final_action["params"] == {"query": "plumber", "item_ids": ["b", "c"]}
    assert guard.audit is not None
    record = guard.audit.get(decision.id).record
    assert record["final_action"]["params"]["item_ids"] == ["b", "c"]
    assert record["action"]["params"]["item_ids"] == ["a", "b", "c"]
