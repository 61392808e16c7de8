"""Sweep 8, payment data: Mastercard's 2-series numbers (2221-2720, issued since 2017),
card numbers with dots, slashes, underscores or spaced dashes between their groups,
and IBANs typed in lower case are found; Luhn or checksum failures are not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guard.detect import PiiScanner
from tests.detect.conftest import found

P = pytest.param

CARDS = [
    P("2221 0000 0000 0009", id="mastercard-2221-spaces"),
    P("2720994326581252", id="mastercard-2720-plain"),
    P("2223-0031-2200-3222", id="mastercard-2223-dashes"),
    P("4111.1111.1111.1111", id="visa-dots"),
    P("4111/1111/1111/1111", id="visa-slashes"),
    P("4111_1111_1111_1111", id="visa-underscores"),
    P("5500 - 0000 - 0000 - 0004", id="mastercard-spaced-dashes"),
    P("4111  1111  1111  1111", id="visa-double-spaces"),
    P("3782.822463.10005", id="amex-dots"),
    P("4062 3079 8683 0784 852", id="visa-19-digits"),
]


@pytest.mark.parametrize("card", CARDS)
def test_card_numbers_are_found(pattern_scanner: PiiScanner, card: str) -> None:
    assert ("CREDIT_CARD", card) in found(pattern_scanner, f"charge {card} today")


NOT_CARDS = [
    P("2221 0000 0000 0008", id="2-series-luhn-fails"),
    P("4111.1111.1111.1112", id="dots-luhn-fails"),
    P("2024.1111.1111.1111.1111", id="longer-dotted-chain"),
    P("version 4111.1111.1111.1111.2", id="a-dotted-chain-continues"),
    P("2019 2020 2021 2022", id="years"),
    P("Reference 2024 0517 1234 5678", id="reference"),
]


@pytest.mark.parametrize("text", NOT_CARDS)
def test_card_near_misses(pattern_scanner: PiiScanner, text: str) -> None:
    assert [f for f in found(pattern_scanner, text) if f[0] == "CREDIT_CARD"] == []


IBANS = [
    P("my iban is de89370400440532013000", "de89370400440532013000", id="lower-plain"),
    P("IBAN de89 3704 0044 0532 0130 00", "de89 3704 0044 0532 0130 00", id="lower-grouped"),
    P("Gb82 West 1234 5698 7654 32.", "Gb82 West 1234 5698 7654 32", id="title-case"),
    P("pay fr76 3000 6000 0112 3456 7890 189", "fr76 3000 6000 0112 3456 7890 189", id="fr"),
]


@pytest.mark.parametrize(("text", "iban"), IBANS)
def test_ibans_in_lower_case_are_found(pattern_scanner: PiiScanner, text: str, iban: str) -> None:
    assert ("IBAN_CODE", iban) in found(pattern_scanner, text)


NOT_IBANS = [
    P("de89 3704 0044 0532 0130 01", id="lower-checksum-fails"),
    P("ab12 cdef 3456 7890 abcd", id="hex-like"),
    P("the de89 model and 3704 0044 units", id="words-between"),
]


@pytest.mark.parametrize("text", NOT_IBANS)
def test_iban_near_misses(pattern_scanner: PiiScanner, text: str) -> None:
    assert [f for f in found(pattern_scanner, text) if f[0] == "IBAN_CODE"] == []


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Nd", "Cs")), max_size=120))
def test_digit_prefilters_hold_for_the_guards_card_and_iban_recognizers(text: str) -> None:
    from guard.detect import _recognizers

    for cls in (_recognizers.GuardCardRecognizer, _recognizers.GuardIbanRecognizer):
        assert cls().analyze(text, cls().supported_entities) == [], cls.__name__
