"""Audit records of PII packs: texts beside a listed JSON field, long numbers and keys are
scrubbed by the pattern recognizers too (they were stored as sent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guard import Guard

PACK = """\
name: records
version: 1
defaults: {verdict: allow, on_error: deny}
pii:
  fields: [params.message, "params.items[*].note", "params.args$.body"]
  entities: [EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, IP_ADDRESS]
rules:
  - id: any-pii
    when: pii.any()
    effect: redact
"""


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Guard:
    folder: Path = tmp_path_factory.mktemp("records")
    (folder / "records.yaml").write_text(PACK, encoding="utf-8")
    return Guard.from_policy(str(folder / "records.yaml"), audit="memory://")


def _stored(guard: Guard, params: dict[str, object]) -> dict[str, object]:
    decision = guard.check({"kind": "k", "actor": "u1", "params": params})
    assert guard.audit is not None
    return dict(guard.audit.get(decision.id).record)


def test_text_beside_a_listed_json_field_is_scrubbed(guard: Guard) -> None:
    args = json.dumps({"body": "server 192.168.1.20", "to": "jo@example.com"})
    record = _stored(guard, {"message": "ok", "args": args})
    text = json.dumps(record)
    assert "jo@example.com" not in text and "192.168.1.20" not in text
    assert "<EMAIL_ADDRESS>" in record["action"]["params"]["args"]  # type: ignore[index]


def test_long_numbers_outside_the_fields_are_scrubbed(guard: Guard) -> None:
    record = _stored(guard, {"message": "ok", "card": 4111111111111111, "count": 12})
    params = record["action"]["params"]  # type: ignore[index]
    assert params["card"] == "<CREDIT_CARD>"
    assert params["count"] == 12  # short numbers are kept as numbers


def test_keys_outside_the_fields_are_scrubbed(guard: Guard) -> None:
    contacts = {"jo@example.com": "friend", "sam@example.org": "colleague", "plain_key": "x"}
    record = _stored(guard, {"message": "ok", "contacts": contacts})
    stored = record["action"]["params"]["contacts"]  # type: ignore[index]
    assert "jo@example.com" not in json.dumps(record)
    assert sorted(stored) == ["<EMAIL_ADDRESS>", "<EMAIL_ADDRESS> #2", "plain_key"]
    assert sorted(stored.values()) == ["colleague", "friend", "x"]


def test_identifiers_and_plain_values_are_kept(guard: Guard) -> None:
    record = _stored(guard, {"message": "ok", "note_id": "A-17", "qty": 3})
    assert record["actor"] == "u1"
    assert record["action"]["params"] == {"message": "ok", "note_id": "A-17", "qty": 3}  # type: ignore[index]


def test_keys_inside_a_listed_field_are_scrubbed(guard: Guard) -> None:
    record = _stored(guard, {"message": {"jo@example.com": "note"}})
    assert "jo@example.com" not in json.dumps(record)
