"""The shipped agent-tools pack keeps e-mail recipients and bodies out of the audit log."""

from __future__ import annotations

import json

import pytest

from guard import Guard, Verdict

pytest.importorskip("presidio_analyzer")

ADDRESS = "jo.client@gmail.com"
PHONE = "+44 20 7946 0958"
CARD = "4111 1111 1111 1111"


def _stored(g: Guard, decision_id: str) -> str:
    assert g.audit is not None
    return json.dumps(g.audit.get(decision_id).record)


def test_an_external_email_is_held_with_its_recipient_masked_in_the_record() -> None:
    action = {
        "kind": "send_email",
        "params": {"to": ADDRESS, "subject": "invoice", "body": f"call {PHONE}, card {CARD}"},
    }
    sent = json.loads(json.dumps(action))
    with Guard.from_policy("agent-tools", audit="memory://") as g:
        d = g.check(action)
        stored = _stored(g, d.id)
    assert d.verdict is Verdict.ESCALATE
    assert action == sent  # the caller's action is untouched
    # what the tool would run is the action as sent: the guard masks the record, not the mail
    assert d.final_action == sent
    for raw in (ADDRESS, "7946 0958", "4111 1111"):
        assert raw not in stored
        assert raw not in json.dumps([h.model_dump(mode="json") for h in d.hits])
    assert "<EMAIL_ADDRESS>" in stored
    held = next(h for h in d.hits if h.effect is Verdict.ESCALATE)
    assert ADDRESS not in held.message


def test_cc_and_bcc_are_masked_too() -> None:
    action = {
        "kind": "send_email",
        "params": {"to": "ops@marketplace.example", "cc": ADDRESS, "bcc": "x.y@proton.me"},
    }
    with Guard.from_policy("agent-tools", audit="memory://") as g:
        d = g.check(action)
        stored = _stored(g, d.id)
    assert d.verdict is Verdict.ESCALATE
    assert ADDRESS not in stored and "x.y@proton.me" not in stored


def test_an_email_address_in_another_tool_argument_is_masked_in_the_record() -> None:
    action = {"kind": "search", "params": {"q": f"who owns {ADDRESS}"}}
    with Guard.from_policy("agent-tools", audit="memory://") as g:
        d = g.check(action)
        stored = _stored(g, d.id)
    assert d.verdict is Verdict.ALLOW
    assert d.final_action == action
    assert ADDRESS not in stored
