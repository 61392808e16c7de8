"""Sweep 12, context: a weak pattern whose type is named next to it is reported.

Presidio scores a bare nine-digit passport or bank number 0.05 and lifts it by 0.35
(to 0.4) when one of its context words comes before it: still under the pack's 0.5
threshold, so `my passport number is 912345678` was never reported. A lifted result
whose type is also named by its cue word (`passport`, `bank`, `driver`) in its own
sentence now scores at least `NAMED_SCORE`; without that word it stays where it was.
"""

from __future__ import annotations

import pytest

from guard.detect._context import NAMED_SCORE, ContextWindow, boosted
from guard.detect._entities import LABEL_CUES
from tests.detect.conftest import found, make_scanner

P = pytest.param
WEAK = ["US_PASSPORT", "US_BANK_NUMBER", "US_DRIVER_LICENSE", "US_ITIN", "PHONE_NUMBER"]


@pytest.fixture(scope="module")
def scanner():  # type: ignore[no-untyped-def]
    return make_scanner(WEAK)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        P("my passport number is 912345678", ("US_PASSPORT", "912345678"), id="passport"),
        P(
            "Passport: 912345678, expires next May.",
            ("US_PASSPORT", "912345678"),
            id="passport-colon",
        ),
        P(
            "Here is my US passport no. A12345678 for the booking.",
            ("US_PASSPORT", "A12345678"),
            id="passport-next-generation",
        ),
        P("bank account 123456789012", ("US_BANK_NUMBER", "123456789012"), id="bank-account"),
        P(
            "Please pay into my checking account 00012345678 at Chase.",
            ("US_BANK_NUMBER", "00012345678"),
            id="checking-account",
        ),
        P("acct# 9876543210123", ("US_BANK_NUMBER", "9876543210123"), id="acct"),
        P("driver license D1234567", ("US_DRIVER_LICENSE", "D1234567"), id="license-alnum"),
        P(
            "My driver's license number is 123456789.",
            ("US_DRIVER_LICENSE", "123456789"),
            id="license-digits",
        ),
        P("my ITIN is 912-701234", ("US_ITIN", "912-701234"), id="itin-very-weak"),
    ],
)
def test_a_weak_pattern_named_before_it_is_reported(
    scanner, text: str, expected: tuple[str, str]
) -> None:  # type: ignore[no-untyped-def]
    assert found(scanner, text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        P("the code is 912345678", id="bare-nine-digits"),
        P("Your order number is 123456789, keep it for returns.", id="order-number"),
        P("Please send us 912345678 units by Friday.", id="us-is-a-passport-context-word"),
        P("The travel document reference is 912345678.", id="travel-without-passport"),
        P("ticket 000123456789 was closed", id="ticket"),
        P(
            "I lost my passport last week. Reference 912345678 is for the hotel.",
            id="passport-in-the-sentence-before",
        ),
        P(
            "Update the bank details!\nOrder 123456789012 ships Monday.",
            id="bank-in-the-sentence-before",
        ),
        P("912345678 was my passport number", id="cue-after-the-value"),
    ],
)
def test_without_the_cue_in_its_sentence_a_weak_pattern_is_not_reported(scanner, text: str) -> None:  # type: ignore[no-untyped-def]
    assert found(scanner, text) == []


def test_a_cue_farther_than_the_context_window_does_not_lift(scanner) -> None:  # type: ignore[no-untyped-def]
    text = "passport photos, visas, hotel vouchers, insurance papers, itinerary 912345678"
    assert found(scanner, text) == []


def test_the_score_of_a_named_value_is_named_score_and_presidio_boost_is_unchanged(
    scanner,
) -> None:  # type: ignore[no-untyped-def]
    scan = scanner.scan({"params": {"message": "my passport number is 912345678"}})
    assert [f.score for f in scan.findings] == [NAMED_SCORE]
    assert boosted(0.05) == pytest.approx(0.4)
    assert boosted(0.05, named=True) == NAMED_SCORE
    assert boosted(0.3, named=True) == pytest.approx(0.65)


def test_a_higher_threshold_still_keeps_named_weak_patterns_out() -> None:
    strict = make_scanner(WEAK, threshold=0.7)
    assert found(strict, "my passport number is 912345678") == []


def test_redacting_a_named_value_twice_changes_nothing(scanner) -> None:  # type: ignore[no-untyped-def]
    action = {"params": {"message": "bank account 123456789012 and passport 912345678"}}
    once = scanner.redact(action, scanner.scan(action))
    assert once["params"]["message"] == "bank account <US_BANK_NUMBER> and passport <US_PASSPORT>"
    assert scanner.redact(once, scanner.scan(once)) == once


def test_the_window_names_a_type_only_in_the_match_sentence() -> None:
    text = "Passport lost. Number 912345678"
    window = ContextWindow(text, frozenset())
    assert not window.names(text.index("912"), LABEL_CUES["US_PASSPORT"])
    text = "passport lost, number 912345678"
    assert ContextWindow(text, frozenset()).names(text.index("912"), LABEL_CUES["US_PASSPORT"])
