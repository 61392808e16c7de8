"""Sweep 15: the name of a channel or a cue word before a number is no PERSON.

Found here: spaCy's small English model reads the word before a number or a handle as a
person's name, so the shipped pack redacted `or venmo @Dana-Restores-9 to skip the fee`
to `or <PERSON> to skip the fee` (the handle reported as a name, and `venmo` lost),
`iban: IE29-...` to `<PERSON>: <IBAN_CODE>`, `Appelez-moi au 06 ...` to
`<PERSON> au <PHONE_NUMBER>` and `Mein Handy: 0172 ...` to `<PERSON>: <PHONE_NUMBER>`.
Names stay names, also beside such words.
"""

from __future__ import annotations

import pytest

from guard import Guard
from guard.detect import PiiScanner
from tests.detect.conftest import found, make_scanner, send

P = pytest.param


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return make_scanner(["PERSON", "PHONE_NUMBER", "CONTACT_HANDLE", "IBAN_CODE", "EMAIL_ADDRESS"])


CASES = [
    P(
        "or venmo @Dana-Restores-9 to skip the fee",
        "or venmo <CONTACT_HANDLE> to skip the fee",
        id="venmo-handle",
    ),
    P("iban: IE29-AIBK-9311-5212-3456-78", "iban: <IBAN_CODE>", id="iban-word"),
    P(
        "Appelez-moi au 06 98 76 54 32 après 18h",
        "Appelez-moi au <PHONE_NUMBER> après 18h",
        id="french-call-me",
    ),
    P(
        "Mein Handy: 0172 9876543, ab 17 Uhr erreichbar",
        "Mein Handy: <PHONE_NUMBER>, ab 17 Uhr erreichbar",
        id="german-my-mobile",
    ),
    P("ruf mich an: 0151 23456789", "ruf mich an: <PHONE_NUMBER>", id="german-call-me"),
    P("Venmo: @Sam-Sells", "Venmo: <CONTACT_HANDLE>", id="venmo-colon"),
    P("bluesky @jo.bsky.social", "bluesky <CONTACT_HANDLE>", id="bluesky"),
]


@pytest.mark.parametrize(("text", "redacted"), CASES)
def test_no_person_is_reported(scanner: PiiScanner, text: str, redacted: str) -> None:
    assert [s for t, s in found(scanner, text) if t == "PERSON"] == []


@pytest.mark.parametrize(("text", "redacted"), CASES)
def test_the_pack_keeps_the_word(pack: Guard, text: str, redacted: str) -> None:
    verdict, types, final = send(pack, text)
    assert verdict == "redact"
    assert "PERSON" not in types
    assert final["params"]["message"] == redacted  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        P("Ask for John Smith at the desk", "John Smith", id="name"),
        P("My name is Anna Ring, call me", "Anna Ring", id="surname-a-cue-elsewhere"),
        P("Ask Mark Call at the desk", "Mark Call", id="surname-call"),
        P("Herr Müller ruft an", "Herr Müller", id="german-name"),
    ],
)
def test_a_name_stays_a_name(scanner: PiiScanner, text: str, name: str) -> None:
    assert ("PERSON", name) in found(scanner, text)
