"""A new user's inputs to the engine: odd but valid actions, wrong containers, packs given
to the constructor by hand, and decisions that must never share the caller's objects."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import datetime
import uuid
from collections import UserDict
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from guard import Decision, Guard, InvalidAction, PolicyError, Verdict
from guard.policy._loader import load

EVIDENCE_PACK = """\
name: ev
version: 1
defaults: {verdict: allow, on_error: deny}
rules:
  - id: has-meta
    match: {kind: x}
    when: params.meta != {} and params.tags != [] and len(context.items) > 0
    effect: escalate
  - id: blocked-recipient
    match: {kind: send}
    when: params.to in ["b5c3a0a4-6d0e-4c53-9a8e-5d4e1f7e2b10", "2024-01-01T00:00:00"]
    effect: deny
"""


@pytest.fixture
def ev(write_pack: Any) -> Guard:
    return Guard.from_policy(write_pack(EVIDENCE_PACK), audit="memory://")


def test_evidence_does_not_share_the_callers_lists_and_dicts(ev: Guard) -> None:
    action = {"kind": "x", "params": {"meta": {"a": 1}, "tags": ["t"]}}
    context = {"items": [{"a": 1}]}
    before, ctx_before = copy.deepcopy(action), copy.deepcopy(context)
    decision = ev.check(action, context)
    evidence = decision.hits[0].evidence
    assert evidence["params.meta"] == {"a": 1} and evidence["context.items"] == [{"a": 1}]
    evidence["params.meta"]["b"] = 2
    evidence["params.tags"].append("u")
    evidence["context.items"][0]["a"] = 9
    assert action == before and context == ctx_before
    # ...and the caller changing its input later does not rewrite the decision's evidence
    action["params"]["tags"].append("later")
    assert ev.evaluate(action, context).hits[0].evidence["params.tags"] == ["t", "later"]
    assert decision.hits[0].evidence["params.tags"] == ["t", "u"]


def test_evidence_from_a_tuple_is_a_copy_too(ev: Guard) -> None:
    inner = {"a": 1}
    action = {"kind": "x", "params": {"meta": {"a": 1}, "tags": (inner,)}}
    decision = ev.check(action, {"items": [1]})
    decision.hits[0].evidence["params.tags"][0]["a"] = 2
    assert inner == {"a": 1}


@pytest.mark.parametrize(
    "value",
    [
        uuid.UUID("b5c3a0a4-6d0e-4c53-9a8e-5d4e1f7e2b10"),
        datetime.datetime(2024, 1, 1),
        datetime.date(2024, 1, 1),
    ],
    ids=["uuid", "datetime", "date"],
)
def test_a_value_json_would_write_as_text_is_refused(ev: Guard, value: object) -> None:
    """Rules would see the object (not equal to the text), the record and the digest the
    text: a blocked recipient sent as a UUID would be allowed and recorded as blocked."""
    with pytest.raises(InvalidAction, match="JSON-like"):
        ev.check({"kind": "send", "params": {"to": value}})
    with pytest.raises(InvalidAction, match="context is not JSON-like"):
        ev.check({"kind": "send", "params": {"to": "x"}}, {"now": value})


def test_a_dataclass_or_enum_inside_an_action_is_refused(ev: Guard) -> None:
    import enum

    @dataclasses.dataclass
    class Point:
        x: int

    class Color(enum.Enum):
        RED = "red"

    for value in (Point(1), Color.RED):
        with pytest.raises(InvalidAction, match="JSON-like"):
            ev.check({"kind": "send", "params": {"to": value}})


def test_a_str_enum_value_is_still_accepted_as_text(ev: Guard) -> None:
    decision = ev.check({"kind": "send", "params": {"to": Verdict.ALLOW}})
    assert decision.verdict is Verdict.ALLOW
    assert decision.final_action == {"kind": "send", "params": {"to": "allow"}}


@pytest.mark.parametrize("params", [UserDict({"q": "x"}), MappingProxyType({"q": "x"})])
def test_params_may_be_any_mapping_like_the_action_itself(ev: Guard, params: Any) -> None:
    decision = ev.check({"kind": "search", "params": params})
    assert decision.verdict is Verdict.ALLOW
    assert decision.final_action == {"kind": "search", "params": {"q": "x"}}


def test_params_that_are_not_a_mapping_say_what_is_expected(ev: Guard) -> None:
    with pytest.raises(InvalidAction, match="'params' must be a mapping.*got list"):
        ev.check({"kind": "search", "params": [1]})


@pytest.mark.parametrize("actions", ["ab", {"kind": "x"}, None, 5])
def test_acheck_batch_refuses_what_is_not_a_list_as_check_batch_does(
    ev: Guard, actions: Any
) -> None:
    with pytest.raises(InvalidAction, match="actions must be a list of mappings"):
        asyncio.run(ev.acheck_batch(actions))


def test_check_batch_takes_a_tuple_and_an_empty_list(ev: Guard) -> None:
    assert ev.check_batch([]) == []
    assert asyncio.run(ev.acheck_batch([])) == []
    decisions = ev.check_batch(({"kind": "a"}, {"kind": "b"}))
    assert [d.kind for d in decisions] == ["a", "b"]


PII_PACK = """\
name: pii
version: 1
defaults: {verdict: allow, on_error: deny}
pii:
  entities: [EMAIL_ADDRESS]
  fields: [params.message]
rules:
  - id: contact
    match: {kind: send}
    when: pii.any("EMAIL_ADDRESS")
    effect: redact
"""


def test_packs_given_as_a_generator_are_all_set_up(write_pack: Any) -> None:
    packs = load(write_pack(PII_PACK))
    guard = Guard(p for p in packs)
    decision = guard.check({"kind": "send", "params": {"message": "mail jo@example.com"}})
    assert [h.error for h in decision.hits] == [None]
    assert decision.verdict is Verdict.REDACT
    shadowed = Guard(packs, shadow=(p for p in packs))
    decision = shadowed.check({"kind": "send", "params": {"message": "mail jo@example.com"}})
    assert decision.shadow is not None and decision.shadow.hits[0].error is None


def test_two_packs_of_one_name_are_refused_by_the_constructor(write_pack: Any) -> None:
    one = load(write_pack(PII_PACK, "a.yaml"))
    two = load(write_pack(PII_PACK.replace("version: 1", "version: 2"), "b.yaml"))
    with pytest.raises(PolicyError, match="pack name 'pii' is given twice"):
        Guard([*one, *two])
    with pytest.raises(PolicyError, match="shadow pack name 'pii' is given twice"):
        Guard(one, shadow=[*one, *two])


@pytest.mark.parametrize("packs", ["marketplace-agent", ["marketplace-agent"], [Path("x")]])
def test_the_constructor_says_to_use_from_policy_for_names_and_paths(packs: Any) -> None:
    with pytest.raises(PolicyError, match=r"Guard.from_policy"):
        Guard(packs)
    with pytest.raises(PolicyError, match=r"Guard.from_policy"):
        Guard(load("marketplace-agent"), shadow=packs)


def test_recording_a_decision_of_a_pack_not_loaded_names_the_pack(ev: Guard) -> None:
    decision = ev.evaluate({"kind": "search"})
    foreign = Decision.model_validate({**decision.model_dump(), "policy": "nope"})
    with pytest.raises(PolicyError, match="no loaded pack named 'nope'"):
        ev.record(foreign)


def test_record_refuses_an_action_other_than_the_one_decided(ev: Guard) -> None:
    """The record would hold action B under the verdict, digest and final action of A."""
    decided = {"kind": "send", "params": {"to": "u1"}}
    decision = ev.evaluate(decided)
    with pytest.raises(InvalidAction, match="not the action this decision was made for"):
        ev.record(decision, {"kind": "send", "params": {"to": "2024-01-01T00:00:00"}})
    assert not decision.audited
    assert ev.record(decision, dict(decided)).audited


def test_a_deep_action_checked_deep_in_the_callers_stack_is_refused_cleanly(ev: Guard) -> None:
    import sys

    from guard import ActionTooLarge

    action: dict[str, Any] = {"kind": "k", "params": {}}
    node = action["params"]
    for _ in range(190):  # within MAX_DEPTH (200)
        node["x"] = {}
        node = node["x"]
    assert ev.evaluate(action).verdict is Verdict.ALLOW

    def depth() -> int:
        frame, n = sys._getframe(), 0
        while frame is not None:
            frame, n = frame.f_back, n + 1
        return n

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth() + 120)  # room for the guard's own calls, not for the walk
    try:
        with pytest.raises(ActionTooLarge, match="nested too deeply"):
            ev.evaluate(action)
    finally:
        sys.setrecursionlimit(limit)
