"""The shipped marketplace pack catches phone numbers written without an English context word.

Regression: Presidio scores every phone number 0.4 unless "phone" or "call" is near, so
with the pack's 0.5 threshold `WhatsApp +91 98765 43210` went through, while
`$2,500,000.00` was redacted as a phone number.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from guard import Guard, Verdict

PHONES = [
    ("reach me at +1 416 555 0199", "+1 416 555 0199"),
    ("416-555-0199", "416-555-0199"),
    ("WhatsApp +91 98765 43210", "+91 98765 43210"),
    ("Ring me on +44 7911 123456", "+44 7911 123456"),
    ("text me 07911 123456", "07911 123456"),
    ("Meine Nummer: +49 30 12345678", "+49 30 12345678"),
    ("Appelez-moi au 06 12 34 56 78", "06 12 34 56 78"),
    ("tel +55 11 91234-5678", "+55 11 91234-5678"),
    ("x, 415-555-0132, y", "415-555-0132"),
]
NOT_PHONES = [
    "Order 123456789",
    "$2,500,000.00",
    "Price: $1,234,567.89 total",
    "The total is $1,249.99 for 3 revisions",
    "Delivered on 05/06/2024, as promised",
    "Invoice INV-2024-0012 is due",
]


@pytest.fixture(scope="module")
def market() -> Iterator[Guard]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield Guard.from_policy("marketplace-agent")


def send(text: str) -> dict[str, object]:
    return {"kind": "send_message", "actor": "x", "params": {"to": "u2", "message": text}}


@pytest.mark.parametrize(("text", "number"), PHONES)
def test_phone_numbers_are_redacted_before_a_contract(
    market: Guard, text: str, number: str
) -> None:
    d = market.evaluate(send(text))
    assert d.verdict is Verdict.REDACT
    assert [h.rule_id for h in d.hits] == ["no-contact-before-contract"]
    assert "PHONE_NUMBER" in {f.entity_type for f in d.pii}
    assert d.final_action is not None
    message = d.final_action["params"]["message"]
    assert number not in message and "<PHONE_NUMBER>" in message


@pytest.mark.parametrize("text", NOT_PHONES)
def test_amounts_dates_and_order_numbers_pass(market: Guard, text: str) -> None:
    d = market.evaluate(send(text))
    assert d.verdict is Verdict.ALLOW, [(f.entity_type, f.score) for f in d.pii]
    assert d.pii == []
