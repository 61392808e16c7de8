"""Sweep 8, phone numbers as people write them: the subscriber digits of a national
number in groups of two to four after its usual first group (`0151 2345 6789`,
`07911 123 456`, `030 1234 5678`), and a national number without its trunk prefix
(`98765 43210`), are phone numbers without a context word."""

from __future__ import annotations

import pytest

from guard.detect import PiiScanner
from tests.detect.conftest import found

P = pytest.param

REGROUPED = [
    P("write 0151 2345 6789", "0151 2345 6789", id="de-mobile-4-4-4"),
    P("0176 1234 5678 ab 18 Uhr", "0176 1234 5678", id="de-mobile-0176-4-4-4"),
    P("Handy 0160 123 4567", "0160 123 4567", id="de-mobile-4-3-4"),
    P("0171 234 56 78", "0171 234 56 78", id="de-mobile-4-3-2-2"),
    P("Festnetz 030 1234 5678", "030 1234 5678", id="de-berlin-3-4-4"),
    P("text me 07911 123 456", "07911 123 456", id="uk-mobile-5-3-3"),
    P("ring 07911-123-456 tonight", "07911-123-456", id="uk-mobile-dashes"),
    P("mon numéro 06 1234 5678", "06 1234 5678", id="fr-mobile-2-4-4"),
    P("WhatsApp 98765 43210", "98765 43210", id="in-mobile-without-trunk-prefix"),
    P("my no. 91234-56789", "91234-56789", id="in-mobile-dash"),
]


@pytest.mark.parametrize(("text", "expected"), REGROUPED)
def test_national_numbers_grouped_as_people_write_them(
    pattern_scanner: PiiScanner, text: str, expected: str
) -> None:
    assert ("PHONE_NUMBER", expected) in found(pattern_scanner, text)


NOT_PHONES = [
    P("Kundennummer 0151 2345 6789", id="de-customer-number"),
    P("Bestellnummer 0176 1234 5678", id="de-order-number"),
    P("Rechnung 030 1234 5678", id="de-invoice"),
    P("commande 06 1234 5678", id="fr-order"),
    P("facture n° 06 1234 5678", id="fr-invoice"),
    P("order 98765 43210", id="order-5-5"),
    P("030 123 4567 8", id="a-one-digit-group"),
    P("Serial: 1234-5678-9012", id="serial-4-4-4"),
    P("Reference 2024 0517 1234", id="reference-date-like"),
    P("lot 20240517 123456", id="lot"),
    P("It was 1999 to 2005 then 2010 to 2015", id="years"),
    P("Scores were 12 15 18 21 24 27", id="scores"),
    P("pages 1234-5678", id="pages"),
    P("ISBN 978-3-16-148410-0", id="isbn"),
    P("Total: 12 345,67 \u20ac", id="price"),
    P("tracking number 9400 1000 0000 0000 0000 00", id="tracking"),
    P("Items 84881/22890 ok", id="slashed-5-5"),
    P("we got 0141.4308.004", id="dotted-4-4-3"),
    P("see 04822/0099/802/0721", id="slashed-groups"),
]


@pytest.mark.parametrize("text", NOT_PHONES)
def test_grouped_near_misses_are_no_phone_numbers(pattern_scanner: PiiScanner, text: str) -> None:
    assert [f for f in found(pattern_scanner, text) if f[0] == "PHONE_NUMBER"] == []


IDENTIFIER_NUMBERS = [
    P("order number 4165550199", id="order-number"),
    P("Tracking number: 4165550199", id="tracking-number"),
    P("your ticket number 2125550187 is open", id="ticket-number"),
    P("invoice no 4165550199", id="invoice-no"),
]


@pytest.mark.parametrize("text", IDENTIFIER_NUMBERS)
def test_the_word_number_after_an_identifier_word_lifts_no_phone(
    pattern_scanner: PiiScanner, text: str
) -> None:
    assert [f for f in found(pattern_scanner, text) if f[0] == "PHONE_NUMBER"] == []


LIFTED = [
    P("phone number 4165550199", "4165550199", id="phone-number"),
    P("my number 4165550199", "4165550199", id="my-number"),
    P("order shipped, call 4165550199", "4165550199", id="identifier-farther-back"),
]


@pytest.mark.parametrize(("text", "number"), LIFTED)
def test_context_words_still_lift_bare_numbers(
    pattern_scanner: PiiScanner, text: str, number: str
) -> None:
    assert ("PHONE_NUMBER", number) in found(pattern_scanner, text)
