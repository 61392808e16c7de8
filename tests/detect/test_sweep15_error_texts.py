"""Sweep 15: a rule error quoting a shortened value of a field the pack does not list.

Found here: `release_payment` with `params.amount` holding a message's text failed
every amount rule with `cannot compare string 'mail jo.secret@gm... 0044 0532 0130 00'
> number 500`: `reprlib` keeps the head and the tail of the value, the e-mail's local
part and the IBAN's last groups, which no recognizer reads once cut. `params.amount`
is no PII field of the pack, so its value was not masked either, and the decision, the
audit record and the logs kept them. Now a quoted piece of any text of the action in
which the pattern recognizers find personal data is masked too.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from guard import Guard

SECRETS = {
    "local part": "jo.secret",
    "iban tail": "0044 0532 0130 00",
    "phone": "07911 123456",
}
TEXT = (
    "mail jo.secret@gmail.com or call 07911 123456 and pay DE89 3704 0044 0532 0130 00 "
    "— a long message, long enough to be shortened where a rule error quotes it"
)


def _shown(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> tuple[str, object]:
    db = tmp_path / "audit.db"
    guard = Guard.from_policy("marketplace-agent", audit=f"sqlite:///{db}")
    with caplog.at_level(logging.DEBUG):
        d = guard.check(
            {"kind": "release_payment", "actor": "err-1", "params": {"amount": TEXT}},
            {"role": "agent"},
        )
        record = guard.audit.get(d.id)  # type: ignore[union-attr]
    shown = "\n".join(
        [
            json.dumps(d.model_dump(mode="json"), ensure_ascii=False),
            json.dumps(record, ensure_ascii=False, default=str),
            caplog.text,
        ]
    )
    return shown, d


def test_no_piece_of_the_value_is_quoted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    shown, d = _shown(tmp_path, caplog)
    assert d.verdict.value == "deny"  # type: ignore[attr-defined]
    assert "cannot compare" in shown  # the error is still said
    assert [name for name, value in SECRETS.items() if value in shown] == []


def test_a_quoted_text_without_personal_data_is_still_shown(tmp_path: Path) -> None:
    guard = Guard.from_policy("marketplace-agent")
    d = guard.check(
        {"kind": "release_payment", "actor": "err-2", "params": {"amount": "five hundred"}},
        {"role": "agent"},
    )
    messages = " ".join(h.message or "" for h in d.hits)
    assert "'five hundred'" in messages
