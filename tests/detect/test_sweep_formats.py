"""A new user's formats: numbers written the way people abroad and on forms write them."""

from __future__ import annotations

import pytest

from guard.detect import PiiScanner
from tests.detect.conftest import found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "reach me at 0044 20 7946 0958",
            [("PHONE_NUMBER", "0044 20 7946 0958")],
            id="uk-after-00",
        ),
        pytest.param(
            "00 44 20 7946 0958 in the evening",
            [("PHONE_NUMBER", "00 44 20 7946 0958")],
            id="uk-after-00-spaced",
        ),
        pytest.param(
            "Berlin office 0049 30 12345678",
            [("PHONE_NUMBER", "0049 30 12345678")],
            id="de-after-00",
        ),
        pytest.param(
            "0033 6 12 34 56 78 le soir",
            [("PHONE_NUMBER", "0033 6 12 34 56 78")],
            id="fr-after-00",
        ),
        pytest.param(
            "from the US dial 011 44 20 7946 0958",
            [("PHONE_NUMBER", "011 44 20 7946 0958")],
            id="uk-after-011",
        ),
        pytest.param(
            "(+44) 20 7946 0958 any time",
            [("PHONE_NUMBER", "(+44) 20 7946 0958")],
            id="plus-in-parentheses",
        ),
        pytest.param("ref 0044 20 7946 0958", [], id="near-miss-identifier-word"),
        pytest.param("Order 0049 30 12345678", [], id="near-miss-order"),
        pytest.param("ticket 00441234567890", [], id="near-miss-one-run-of-digits"),
        pytest.param("batch 0044-2079-4609", [], id="near-miss-not-a-valid-number"),
        pytest.param("SKU 0033 6123 4567", [], id="near-miss-sku"),
    ],
)
def test_international_numbers_after_a_dialling_prefix(
    pattern_scanner: PiiScanner, text: str, expected: list[tuple[str, str]]
) -> None:
    # Presidio scores these 0.4 (a context word is needed); written with `00` or `011`
    # and grouped they are as plainly international as with `+`.
    assert [f for f in found(pattern_scanner, text) if f[0] == "PHONE_NUMBER"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("SSN:\n536228761", [("US_SSN", "536228761")], id="label-newline"),
        pytest.param(
            "Social Security Number:\r\n536-22-8761",
            [("US_SSN", "536-22-8761")],
            id="long-label-crlf",
        ),
        pytest.param("SSN:\n\n536 22 8761", [("US_SSN", "536 22 8761")], id="blank-line"),
        pytest.param("SSN:\n000-12-3456", [], id="near-miss-invalid-area"),
        pytest.param("Order:\n536228761", [], id="near-miss-other-label"),
    ],
)
def test_ssn_on_the_line_after_its_label(
    pattern_scanner: PiiScanner, text: str, expected: list[tuple[str, str]]
) -> None:
    assert found(pattern_scanner, text) == expected
