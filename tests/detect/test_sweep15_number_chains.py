"""Sweep 15: a card, IBAN or SSN whose digit groups go on is removed with all of them.

Found here: Presidio's card pattern reads the first sixteen digits of a longer chain
(`4111-1111-1111-1111-1111`, `4242 4242 4242 4242 4242`), and the SSN and IBAN patterns
stop where their format ends (`536-22-1234-99`, `DE89 3704 0044 0532 0130 00 00`), so a
redaction gave `card <CREDIT_CARD>-1111`: neither the value nor the text around it as
written. Groups joined by another separator (`12/28`, `and 1111`, a price) stay.
"""

from __future__ import annotations

import re

import pytest

from guard import Guard
from guard.detect import PiiScanner
from tests.detect.conftest import found, make_scanner, send

P = pytest.param


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return make_scanner()


CHAINS = [
    P(
        "card 4111-1111-1111-1111-1111 thanks",
        "CREDIT_CARD",
        "4111-1111-1111-1111-1111",
        id="dashes",
    ),
    P("cc 4242 4242 4242 4242 4242, ok?", "CREDIT_CARD", "4242 4242 4242 4242 4242", id="spaces"),
    P("card 4242 4242 4242 4242 42", "CREDIT_CARD", "4242 4242 4242 4242 42", id="two-more"),
    P("ssn 536-22-1234-99 for the form", "US_SSN", "536-22-1234-99", id="ssn"),
    P(
        "IBAN DE89 3704 0044 0532 0130 00 00 please",
        "IBAN_CODE",
        "DE89 3704 0044 0532 0130 00 00",
        id="iban",
    ),
]


@pytest.mark.parametrize(("text", "entity", "chain"), CHAINS)
def test_the_finding_covers_the_whole_chain(
    scanner: PiiScanner, text: str, entity: str, chain: str
) -> None:
    assert found(scanner, text) == [(entity, chain)]


@pytest.mark.parametrize(("text", "entity", "chain"), CHAINS)
def test_the_redaction_leaves_no_group_of_it(
    pack: Guard, text: str, entity: str, chain: str
) -> None:
    verdict, _, final = send(pack, text)
    out = final["params"]["message"]  # type: ignore[index]
    assert verdict in ("redact", "deny")
    assert out == text.replace(chain, f"<{entity}>")
    assert not re.search(r"\d", out), out


@pytest.mark.parametrize(
    ("text", "card"),
    [
        P("card 4111 1111 1111 1111 12/28 cvv 123", "4111 1111 1111 1111", id="expiry"),
        P("card 4111 1111 1111 1111 and 1111", "4111 1111 1111 1111", id="words-between"),
        P("card 4111 1111 1111 1111 41.11", "4111 1111 1111 1111", id="price"),
        P("4111-1111-1111-1111 2026-11-26", "4111-1111-1111-1111", id="date"),
        P("card 4111 1111 1111 1111 4 times", "4111 1111 1111 1111", id="one-digit"),
    ],
)
def test_text_after_the_card_joined_otherwise_stays(
    scanner: PiiScanner, text: str, card: str
) -> None:
    assert found(scanner, text) == [("CREDIT_CARD", card)]


def test_two_cards_in_a_row_stay_two(scanner: PiiScanner) -> None:
    text = "card 4111 1111 1111 1111 4242 4242 4242 4242"
    assert found(scanner, text) == [
        ("CREDIT_CARD", "4111 1111 1111 1111"),
        ("CREDIT_CARD", "4242 4242 4242 4242"),
    ]


def test_a_chain_with_no_card_in_it_stays(scanner: PiiScanner) -> None:
    # the first sixteen digits fail the Luhn check: a serial number
    assert found(scanner, "Serial 4571 2290 1134 8876 0021") == []
