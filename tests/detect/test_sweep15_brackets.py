"""Sweep 15: redaction keeps the brackets and spaces around a number.

Found here: phonenumbers reads an opening bracket before a number as part of it, so a
number written in brackets (`(07911123456 without spaces)`, `[07911 123456]`,
`phone (+44 7911 123456)`) was found with its `(`, and the redacted message read
`<PHONE_NUMBER> without spaces)`: a bracket closed with nothing opening it. A number
after ` / ` was found with the space before it (`/<PHONE_NUMBER>`).
"""

from __future__ import annotations

import pytest

from guard import Guard
from guard.detect import PiiScanner
from tests.detect.conftest import found, make_scanner, send

P = pytest.param


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return make_scanner()


CASES = [
    P(
        "my number is 07911 123456 (07911123456 without spaces)",
        ["07911 123456", "07911123456"],
        "my number is <PHONE_NUMBER> (<PHONE_NUMBER> without spaces)",
        id="second-in-brackets",
    ),
    P(
        "numbers (07911 123456, 07700 900461)",
        ["07911 123456", "07700 900461"],
        "numbers (<PHONE_NUMBER>, <PHONE_NUMBER>)",
        id="list-in-brackets",
    ),
    P(
        "phone (+44 7911 123456)",
        ["+44 7911 123456"],
        "phone (<PHONE_NUMBER>)",
        id="international-in-brackets",
    ),
    P(
        "call me [07911 123456] after 6",
        ["07911 123456"],
        "call me [<PHONE_NUMBER>] after 6",
        id="square-brackets",
    ),
    P(
        "call +1 415 555 0199 / 14155550199 / 4155550199",
        ["+1 415 555 0199", "14155550199", "4155550199"],
        "call <PHONE_NUMBER> / <PHONE_NUMBER> / <PHONE_NUMBER>",
        id="slashes-between",
    ),
]


@pytest.mark.parametrize(("text", "numbers", "redacted"), CASES)
def test_the_number_is_found_without_the_bracket(
    scanner: PiiScanner, text: str, numbers: list[str], redacted: str
) -> None:
    assert found(scanner, text) == [("PHONE_NUMBER", n) for n in numbers]


@pytest.mark.parametrize(("text", "numbers", "redacted"), CASES)
def test_the_redacted_message_keeps_its_brackets(
    pack: Guard, text: str, numbers: list[str], redacted: str
) -> None:
    verdict, _, final = send(pack, text)
    assert verdict == "redact"
    assert final["params"]["message"] == redacted  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        P("office (415) 555-0132 ext. 204", "(415) 555-0132 ext. 204", id="area-code"),
        P("Tel. +49 (0)151 23456789", "+49 (0)151 23456789", id="trunk-in-brackets"),
        P("(+49) 151 2345 6789", "(+49) 151 2345 6789", id="country-code-in-brackets"),
    ],
)
def test_a_bracket_the_number_closes_is_part_of_it(
    scanner: PiiScanner, text: str, number: str
) -> None:
    assert found(scanner, text) == [("PHONE_NUMBER", number)]
