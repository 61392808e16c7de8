"""Sweep 15: a number found once is removed wherever the message writes it again.

Found here: a message that gives its number twice, once in a form a recognizer reads
and once in a form it does not (without its spaces, without its country code, an IBAN's
account part alone, an SSN without dashes), was redacted to
`call <PHONE_NUMBER> i.e. 7911123456`: the number passed in the final action and in the
audit record, under a redact verdict.

A digit run is removed when seven or more of its digits (leading zeros aside) are a
piece of a number found in the same text, or hold that number; a shorter run (the last
four digits of a card, a quantity) stays, and so does a run that shares digits with the
number without being it less a country code (or an IBAN's check digits).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from guard import Guard
from guard.detect import PiiScanner
from tests.detect.conftest import found, make_scanner, message, send

P = pytest.param

# (text, the number as found, the repeat, the repeat's entity type)
REPEATS = [
    P(
        "+44 7911 123456 i.e. 7911123456 from abroad",
        "+44 7911 123456",
        "7911123456",
        "PHONE_NUMBER",
        id="phone-without-country-code",
    ),
    P(
        "my number is 07911 123456, from abroad that's 447911123456",
        "07911 123456",
        "447911123456",
        "PHONE_NUMBER",
        id="phone-with-country-code-unmarked",
    ),
    P(
        "iban DE89 3704 0044 0532 0130 00 so account 370400440532013000",
        "DE89 3704 0044 0532 0130 00",
        "370400440532013000",
        "IBAN_CODE",
        id="iban-account-part",
    ),
    P(
        "ssn 536-22-1234 (536221234 on the form)",
        "536-22-1234",
        "536221234",
        "US_SSN",
        id="ssn-without-dashes",
    ),
    P(
        "Call 415-555-0199 (or 555 0199 if you're local, area code 415-555-0199 again)",
        "415-555-0199",
        "415-555-0199",
        "PHONE_NUMBER",
        id="same-form-twice",
    ),
    P(
        "+44 7911 123456 i.e. 7911123456 2 boxes",
        "+44 7911 123456",
        "7911123456",
        "PHONE_NUMBER",
        id="repeat-before-a-count",
    ),
    P(
        "text (646) 555-0178, the office has it as 646.555.0178x",
        "(646) 555-0178",
        "646.555.0178",
        "PHONE_NUMBER",
        id="dotted-repeat",
    ),
]


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return make_scanner()


@pytest.mark.parametrize(("text", "number", "repeat", "entity"), REPEATS)
def test_the_repeat_is_found_with_the_numbers_type(
    scanner: PiiScanner, text: str, number: str, repeat: str, entity: str
) -> None:
    got = found(scanner, text)
    assert (entity, number) in got
    assert got.count((entity, repeat)) >= 1


@pytest.mark.parametrize(("text", "number", "repeat", "entity"), REPEATS)
def test_the_pack_removes_every_digit_of_the_number(
    pack: Guard, text: str, number: str, repeat: str, entity: str
) -> None:
    verdict, _, final = send(pack, text)
    out = final["params"]["message"]  # type: ignore[index]
    assert verdict == "redact"
    digits = re.sub(r"\D", "", repeat).lstrip("0")
    assert digits not in re.sub(r"\D", "", out)
    # the words around the numbers are kept as written
    words = [w for w in re.findall(r"[A-Za-z']+", text) if not re.search(r"\d", w)]
    assert [w for w in words if w not in out] == [], out


def test_redacting_twice_changes_nothing(pack: Guard) -> None:
    for param in REPEATS:
        text = param.values[0]
        _, _, once = send(pack, text)
        redacted = once["params"]["message"]  # type: ignore[index]
        _, _, twice = send(pack, redacted)
        assert twice["params"]["message"] == redacted  # type: ignore[index]


@pytest.mark.parametrize(
    "text",
    [
        P("card 4111 1111 1111 1111, the one ending 1111", id="last-four"),
        P("call 415-555-0199, we need 415 chairs and 5550 tables", id="short-pieces"),
        P("call 415-555-0199; order 8820417733 is yours", id="other-number"),
        P("my card 4111 1111 1111 1111 was charged 2026-11-26 for 41.11", id="date-price"),
        P("ssn 536-22-1234, case 5362212345", id="longer-than-the-ssn"),
        # the account part of the IBAN less its first digit: another number
        P("iban DE89 3704 0044 0532 0130 00, ref 70400440532013000", id="iban-shifted"),
    ],
)
def test_other_numbers_stay(scanner: PiiScanner, text: str) -> None:
    got = found(scanner, text)
    assert len(got) == 1, got
    kept = text.replace(got[0][1], "")
    redacted = scanner.redact(message(text), scanner.scan(message(text)))
    assert redacted["params"]["message"] == text.replace(got[0][1], f"<{got[0][0]}>")
    assert kept


def test_the_audit_record_keeps_no_repeat(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    guard = Guard.from_policy("marketplace-agent", audit=f"sqlite:///{db}")
    text = "+44 7911 123456 i.e. 7911123456 from abroad"
    d = guard.check(
        {"kind": "send_message", "actor": "repeat", "params": {"to": "c1", "message": text}},
        {"has_contract": False},
    )
    record = json.dumps(guard.audit.get(d.id), default=str)  # type: ignore[union-attr]
    assert "7911123456" not in record
    assert "7911 123456" not in record
