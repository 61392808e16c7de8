"""Sweep 15: a card number written one digit at a time is a card number.

Found here: `card 4 2 4 2 4 2 4 2 4 2 4 2 4 2 4 2` (or with a dash or a dot between
the digits) passed the shipped pack: no card pattern reads single-digit groups, while
a phone number written so (`0 7 9 1 1 1 2 3 4 5 6`) was already found. The Luhn check
still decides: counting (`1 2 3 4 ...`) and a failing number stay text.
"""

from __future__ import annotations

import pytest

from guard import Guard
from guard.detect import PiiScanner
from tests.detect.conftest import found, make_scanner, send

P = pytest.param


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return make_scanner(["CREDIT_CARD", "PHONE_NUMBER", "US_SSN"])


CARDS = [
    P(
        "card 4 2 4 2 4 2 4 2 4 2 4 2 4 2 4 2 thanks",
        "4 2 4 2 4 2 4 2 4 2 4 2 4 2 4 2",
        id="spaces",
    ),
    P("card 4-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1", "4-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1", id="dashes"),
    P("amex 3 7 8 2 8 2 2 4 6 3 1 0 0 0 5 ok", "3 7 8 2 8 2 2 4 6 3 1 0 0 0 5", id="amex"),
]


@pytest.mark.parametrize(("text", "card"), CARDS)
def test_the_card_is_found(scanner: PiiScanner, text: str, card: str) -> None:
    assert found(scanner, text) == [("CREDIT_CARD", card)]


@pytest.mark.parametrize(("text", "card"), CARDS)
def test_the_pack_removes_it(pack: Guard, text: str, card: str) -> None:
    verdict, _, final = send(pack, text)
    assert verdict in ("redact", "deny")
    assert final["params"]["message"] == text.replace(card, "<CREDIT_CARD>")  # type: ignore[index]


@pytest.mark.parametrize(
    "text",
    [
        P("card 4 2 4 2 4 2 4 2 4 2 4 2 4 2 4 1", id="luhn-fails"),
        P("1 2 3 4 5 6 7 8 9 1 2 3 4 5 6 7", id="counting"),
        P("sizes 6 7 8 9 10 11 12", id="sizes"),
        P("4 5 6", id="short"),
    ],
)
def test_no_card_otherwise(scanner: PiiScanner, text: str) -> None:
    assert [t for t, _ in found(scanner, text) if t == "CREDIT_CARD"] == []
