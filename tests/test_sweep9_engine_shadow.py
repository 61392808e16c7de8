"""Shadow packs beside a live pack with other PII settings: the decision a caller holds
(and may log) shows the candidate's hits with the live pack's PII fields masked too."""

from __future__ import annotations

from typing import Any

import pytest

from guard import Guard, Verdict

SHADOW_NO_PII = """\
name: marketplace-agent
version: 99
defaults: {verdict: allow, on_error: deny}
rules:
  - id: quote
    match: {kind: send_message}
    when: len(params.message) > 3 and params.message != "x"
    effect: deny
    message: "message {params.message}"
  - id: broken
    match: {kind: send_message}
    when: int(params.message) > 3
    effect: escalate
"""

ACTION = {"kind": "send_message", "params": {"to": "u2", "message": "mail jo@example.com now"}}


@pytest.fixture
def guard(write_pack: Any) -> Guard:
    return Guard.from_policy("marketplace-agent", shadow=write_pack(SHADOW_NO_PII))


def test_shadow_hits_mask_the_live_packs_pii_fields(guard: Guard) -> None:
    decision = guard.check(ACTION, {"has_contract": True})
    assert decision.shadow is not None and decision.shadow.verdict is Verdict.DENY
    quote, broken = decision.shadow.hits
    assert "jo@example.com" not in str(quote.evidence)
    assert "jo@example.com" not in quote.message
    assert quote.evidence["len(params.message)"] == 23  # a count is not masked
    assert broken.error is not None and "jo@example.com" not in broken.error
    assert "jo@example.com" not in broken.message


def test_the_live_hits_are_unchanged_by_the_shadow(guard: Guard, write_pack: Any) -> None:
    alone = Guard.from_policy("marketplace-agent").check(ACTION)
    beside = guard.check(ACTION)
    assert [h.model_dump() for h in beside.hits] == [h.model_dump() for h in alone.hits]
