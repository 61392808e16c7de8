"""An action both escalated and redacted keeps its redaction: what a reviewer approves
runs without the PII the policy said to remove."""

from __future__ import annotations

from pathlib import Path

from guard import Guard, Verdict

PACK = """
name: esc-redact
version: 1
defaults: {verdict: allow, on_error: deny}
pii:
  entities: [EMAIL_ADDRESS, PHONE_NUMBER]
  fields: [params.message]
rules:
  - id: hide-contact
    match: {kind: send_message}
    when: pii.any("EMAIL_ADDRESS", "PHONE_NUMBER")
    effect: redact
    message: contact details removed
  - id: drop-secret
    match: {kind: send_message}
    when: has(params.secret)
    effect: redact
    redact: [params.secret]
    message: secret removed
  - id: big-audience
    match: {kind: send_message}
    when: get(params.recipients, 1) > 100
    effect: escalate
    message: a broadcast is reviewed
"""


def test_an_escalated_action_keeps_its_redactions(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PACK, encoding="utf-8")
    action = {
        "kind": "send_message",
        "params": {"message": "mail jo.smith@example.com", "secret": "s3", "recipients": 500},
    }
    with Guard.from_policy(str(tmp_path / "p.yaml"), audit="memory://") as guard:
        decision = guard.check(action)
        assert decision.verdict is Verdict.ESCALATE
        assert {h.rule_id for h in decision.hits} == {"hide-contact", "drop-secret", "big-audience"}
        final = decision.final_action
        assert final is not None
        assert "jo.smith@example.com" not in final["params"]["message"]
        assert final["params"]["secret"] == "[REDACTED]"
        assert final["params"]["recipients"] == 500
        assert action["params"]["secret"] == "s3"  # the caller's action is untouched


def test_an_escalation_without_redact_hits_keeps_the_action_whole(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PACK, encoding="utf-8")
    action = {"kind": "send_message", "params": {"message": "hello all", "recipients": 500}}
    with Guard.from_policy(str(tmp_path / "p.yaml")) as guard:
        decision = guard.check(action)
        assert decision.verdict is Verdict.ESCALATE
        assert decision.final_action == action
