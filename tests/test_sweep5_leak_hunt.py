"""The leak hunt: raw PII values pushed through the Python API (check, check_batch, shadow
packs, decorators that substitute, escalate and block) with the shipped marketplace pack
and a pack with several `pii.fields`; nothing written (every table of the SQLite log, the
files beside it, DEBUG logs of every logger) may hold a raw value or its digits."""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from guard import ActionBlocked, ActionEscalated, Guard

VALUES = [
    "jane.doe@example.com",
    "j.smith+promo@mail-host.co.uk",
    "marta.kowalska@firma.pl",
    "+44 20 7946 0958",
    "(212) 555-0187",
    "415.555.2671",
    "07700 900123",
    "+49 151 23456789",
    "+1 416 555 0199",
    "4111 1111 1111 1111",
    "5500-0000-0000-0004",
    "378282246310005",
    "6011 0009 9013 9424",
    "GB82 WEST 1234 5698 7654 32",
    "DE89370400440532013000",
    "SSN 512-44-6789",
    "t.me/janedoe_secret",
    "jane dot doe at example dot com",
    "john&#64;gmail&#46;com",
    "john%40gmail.com",
    "4one6 5five5 0one9nine",
    "on telegram, kim_kowalski77",
    "my gmail is rsmith1988",
]

PACK = """\
name: leak-hunt
version: 1
defaults: {verdict: allow, on_error: deny}
pii:
  entities: [EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, US_SSN, IBAN_CODE,
             OBFUSCATED_EMAIL, OBFUSCATED_PHONE, CONTACT_HANDLE]
  fields: [params.message, params.subject, "params.attachments[*].text", params.profile]
  operators: {EMAIL_ADDRESS: hash, CREDIT_CARD: mask}
rules:
  - id: contact
    when: pii.any()
    effect: redact
    message: "in {params.message} to {params.to}"
  - id: compare-error
    when: get(params.note, 0) > 5
    effect: redact
    on_error: redact
  - id: big
    when: get(params.amount, 0) > 500
    effect: escalate
    message: "{params.amount} for {params.note}"
  - id: huge
    when: get(params.amount, 0) > 10000
    effect: deny
    message: "too much for {params.note}"
"""


# Quoted in a rule's error text ('john%40gmail.com'): the OBFUSCATED_EMAIL recognizer
# once refused a local part right after a quote.
QUOTED = ("john%40gmail.com", "john&#64;gmail&#46;com")


def _needles(value: str) -> set[str]:
    core = value.removeprefix("SSN ")
    digits = re.sub(r"\D", "", core)
    return {core} | ({digits} if len(digits) >= 7 else set())


def _leaks(text: str) -> list[str]:
    return sorted(n for v in VALUES for n in _needles(v) if n.lower() in text.lower())


def _dump(db: Path) -> str:
    out = []
    with sqlite3.connect(db) as con:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            for row in con.execute(f"select * from {table}"):  # noqa: S608 - names from the db
                for cell in row:
                    if isinstance(cell, bytes):
                        cell = cell.decode("utf-8", "replace")
                    out.append(str(cell))
    return "\n".join(out)


def _actions(value: str) -> list[dict[str, Any]]:
    return [
        {"kind": "k", "actor": "u1", "params": {"message": f"write {value}", "to": value}},
        {"kind": "k", "actor": "u1", "params": {"subject": value, "note": f"see {value}"}},
        {"kind": "k", "actor": "u1", "params": {"profile": {"a": [value]}, "tags": [value]}},
        {"kind": "k", "actor": "u1", "params": {"attachments": [{"text": value}], value: 1}},
    ]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("hunt")
    (folder / "leak-hunt.yaml").write_text(PACK, encoding="utf-8")
    db = folder / "audit.db"
    logs: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logs.append(self.format(record))

    handler, root = Keep(logging.DEBUG), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        with (
            Guard.from_policy(str(folder / "leak-hunt.yaml"), audit=f"sqlite:///{db}") as own,
            Guard.from_policy(
                "marketplace-agent", shadow=str(folder / "leak-hunt.yaml"), audit=f"sqlite:///{db}"
            ) as shipped,
        ):
            _traffic(own, shipped)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    beside = "\n".join(
        p.read_bytes().decode("utf-8", "replace") for p in folder.iterdir() if p.suffix != ".db"
    )
    return {"tables": _dump(db), "logs": "\n".join(logs), "beside": beside}


def _traffic(own: Guard, shipped: Guard) -> None:
    for value in VALUES:
        for action in _actions(value):
            own.check(action)
        own.check_batch(_actions(value))
        shipped.check(
            {"kind": "send_message", "actor": "u1", "params": {"to": value, "message": value}},
            context={"has_contract": False, "blocked_by": [value]},
        )
        own.check({"kind": "k", "actor": "u1", "params": {"amount": 700, "note": value}})

        @own.agent
        def pay(v: str = value) -> Any:
            return [
                ({"kind": "k", "params": {"amount": 20000, "note": v}}, 0.7),
                ({"kind": "k", "params": {"amount": 100, "note": v}}, 0.3),
            ]

        pay()
        for amount in (700, 20000):

            @own.agent
            def held(v: str = value, a: int = amount) -> Any:
                return {"kind": "k", "params": {"amount": a, "note": v}}

            with pytest.raises((ActionEscalated, ActionBlocked)) as raised:
                held()
            assert not _leaks(str(raised.value) + repr(raised.value))


@pytest.mark.parametrize("where", ["tables", "logs", "beside"])
def test_nothing_written_holds_a_raw_value(written: dict[str, str], where: str) -> None:
    assert _leaks(written[where]) == []


def test_the_hunt_wrote_records(written: dict[str, str]) -> None:
    tables = written["tables"]
    assert tables.count("guard.decision/v1") > 4 * len(VALUES)
    assert "<EMAIL_ADDRESS>" in tables and "<IBAN_CODE>" in tables and "<US_SSN>" in tables


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("0151 2345 6789", id="de-mobile-4-4-4"),
        pytest.param("0151 23456789", id="de-mobile-usual-grouping"),
    ],
)
def test_phone_formats_are_masked_in_records(tmp_path: Path, value: str) -> None:
    (tmp_path / "leak-hunt.yaml").write_text(PACK, encoding="utf-8")
    with Guard.from_policy(str(tmp_path / "leak-hunt.yaml"), audit="memory://") as guard:
        decision = guard.check({"kind": "k", "params": {"message": f"write {value}"}})
        assert guard.audit is not None
        assert value not in str(guard.audit.get(decision.id).record)


@pytest.mark.parametrize("value", QUOTED)
def test_quoted_escaped_email_in_an_error_text(tmp_path: Path, value: str) -> None:
    (tmp_path / "leak-hunt.yaml").write_text(PACK, encoding="utf-8")
    with Guard.from_policy(str(tmp_path / "leak-hunt.yaml"), audit="memory://") as guard:
        decision = guard.check({"kind": "k", "params": {"amount": 700, "note": value}})
        assert guard.audit is not None
        assert value not in str(guard.audit.get(decision.id).record)
