"""Audit records hold no contact or account number that the pattern recognizers find, in
listed fields and elsewhere, even when the pack's `pii.entities` does not name its type
(an IBAN in a pack that lists only EMAIL_ADDRESS was stored as sent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guard import Guard

PACK = """\
name: mail-only
version: 1
defaults: {verdict: allow, on_error: deny}
pii:
  entities: [EMAIL_ADDRESS]
  fields: [params.message]
rules:
  - id: mail
    when: pii.any("EMAIL_ADDRESS")
    effect: redact
"""

RAW = [
    pytest.param("GB82 WEST 1234 5698 7654 32", "<IBAN_CODE>", id="iban-grouped"),
    pytest.param("DE89370400440532013000", "<IBAN_CODE>", id="iban-compact"),
    pytest.param("4111 1111 1111 1111", "<CREDIT_CARD>", id="card"),
    pytest.param("SSN 512-44-6789", "<US_SSN>", id="ssn"),
    pytest.param("+44 20 7946 0958", "<PHONE_NUMBER>", id="phone"),
    pytest.param("t.me/janedoe_secret", "<CONTACT_HANDLE>", id="handle"),
]


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Guard:
    folder: Path = tmp_path_factory.mktemp("mail-only")
    (folder / "mail-only.yaml").write_text(PACK, encoding="utf-8")
    return Guard.from_policy(str(folder / "mail-only.yaml"), audit="memory://")


def _stored(guard: Guard, params: dict[str, object]) -> tuple[str, dict[str, object]]:
    decision = guard.check({"kind": "k", "actor": "u1", "params": params})
    assert guard.audit is not None
    record = dict(guard.audit.get(decision.id).record)
    assert decision.final_action is not None
    return json.dumps(record, ensure_ascii=False), decision.final_action


@pytest.mark.parametrize(("raw", "token"), RAW)
def test_unlisted_field_loses_types_the_pack_does_not_name(
    guard: Guard, raw: str, token: str
) -> None:
    text, final = _stored(guard, {"message": "hello", "memo": f"pay to {raw} today"})
    assert raw not in text
    assert token in text
    assert final["params"] == {"message": "hello", "memo": f"pay to {raw} today"}  # the caller's


@pytest.mark.parametrize(("raw", "token"), RAW)
def test_listed_field_loses_types_the_pack_does_not_name(
    guard: Guard, raw: str, token: str
) -> None:
    text, _ = _stored(guard, {"message": f"mail jo@example.com, pay to {raw}"})
    assert raw not in text
    assert token in text and "<EMAIL_ADDRESS>" in text


def test_listed_field_without_pii_is_stored_as_sent(guard: Guard) -> None:
    params = {"message": "order 12345 shipped", "memo": "see you at 10:30"}
    text, _ = _stored(guard, dict(params))
    record = json.loads(text)
    assert record["action"]["params"] == params
    assert record["masked"] == []
