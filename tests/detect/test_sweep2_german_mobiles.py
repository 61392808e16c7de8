"""German mobiles in their usual grouping (`0151 23456789`) are phone numbers without a
context word; phonenumbers groups them `01512 3456789`, so they scored 0.4."""

from __future__ import annotations

import pytest

from guard.detect import PiiScanner
from tests.detect.conftest import found

P = pytest.param

GERMAN_MOBILES = [
    P("0151 23456789", "0151 23456789", id="telekom-0151"),
    P("Handy: 0157 71234567", "0157 71234567", id="eplus-0157"),
    P("erreichbar unter 0152 01234567", "0152 01234567", id="vodafone-0152"),
    P("0159 01234567 ab 18 Uhr", "0159 01234567", id="followed-by-words"),
    P("0151/23456789", "0151/23456789", id="slash"),
    P("0176 12345678", "0176 12345678", id="0176-grouped-as-phonenumbers-does"),
]
NOT_GERMAN_MOBILES = [
    P("ref 0151 23456789", id="after-ref"),
    P("Invoice 0151 23456789", id="after-invoice"),
    P("Kundennummer 0151 2345 6789", id="other-grouping"),
    P("room 0151 2345", id="too-short"),
    P("0151 234", id="far-too-short"),
    P("030 123 4567 8", id="landline-odd-grouping"),
]


@pytest.mark.parametrize(("text", "expected"), GERMAN_MOBILES)
def test_german_mobiles_in_their_usual_grouping(
    pattern_scanner: PiiScanner, text: str, expected: str
) -> None:
    assert ("PHONE_NUMBER", expected) in found(pattern_scanner, text)


@pytest.mark.parametrize("text", NOT_GERMAN_MOBILES)
def test_german_mobile_near_misses(pattern_scanner: PiiScanner, text: str) -> None:
    assert [e for e, _ in found(pattern_scanner, text) if e == "PHONE_NUMBER"] == []
