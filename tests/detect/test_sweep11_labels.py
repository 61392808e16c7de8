"""Sweep 11, labels: a value that several number types find is named by its context.

Ten digits can be a phone number and pass the NHS checksum, nine a passport and a bank
account number; the type with the highest score used to name the value, so a review note
`call me at 415 555 0199` was stored as `call me at <UK_NHS>`.
"""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guard.detect import PiiScanner, PiiSettings, Span
from guard.detect._labels import relabelled
from service._notes import NOTE_ENTITIES
from tests.detect.conftest import KEY, found, make_scanner, message

P = pytest.param


@cache
def notes() -> PiiScanner:
    """The review-note scanner of `service._notes`."""
    return PiiScanner(PiiSettings(entities=NOTE_ENTITIES, fields=["note"]), hash_key=KEY)


def masked(text: str) -> str:
    scanner = notes()
    data = {"note": text}
    scan = scanner.scan(data)
    assert not scan.report.field_errors, scan.report.field_errors
    note = scanner.mask_for_audit(data, scan)[0]["note"]
    assert isinstance(note, str)
    return note


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 4155550199 and 9434765919 pass the NHS mod-11 check
        P("call me at 415 555 0199", "call me at <PHONE_NUMBER>", id="call"),
        P("415-555-0199", "<PHONE_NUMBER>", id="alone"),
        P("4155550199", "<PHONE_NUMBER>", id="bare-digits"),
        P("text me 943-476-5919", "text me <PHONE_NUMBER>", id="text-me"),
        P("customer rang from 943 476 5919 twice", "customer rang from <PHONE_NUMBER> twice",
          id="no-cue"),
        P("my NHS number is 943 476 5919", "my NHS number is <UK_NHS>", id="nhs-before"),
        P("NHS no. 943 476 5919", "NHS no. <UK_NHS>", id="nhs-no"),
        P("Your national health service number: 9434765919",
          "Your national health service number: <UK_NHS>", id="national-health-service"),
        P("health number 943-476-5919", "health number <UK_NHS>", id="health-number"),
        P("9434765919 is my NHS number", "<UK_NHS> is my NHS number", id="nhs-after"),
        P("NHS 943 476 5919, phone 415 555 0199", "NHS <UK_NHS>, phone <PHONE_NUMBER>",
          id="nearest-cue-each"),
        P("phone 415 555 0199, NHS 943 476 5919", "phone <PHONE_NUMBER>, NHS <UK_NHS>",
          id="nearest-cue-each-reversed"),
        P("My NHS number is on file. Call 415 555 0199 tomorrow.",
          "My NHS number is on file. Call <PHONE_NUMBER> tomorrow.", id="cue-in-other-sentence"),
        P("I have an NHS appointment tomorrow, my mobile is 415 555 0199",
          "I have an NHS appointment tomorrow, my mobile is <PHONE_NUMBER>",
          id="nearer-phone-cue"),
        P("acct 4155550199 at Chase", "acct <US_BANK_NUMBER> at Chase", id="bank-acct"),
        P("my account number is 4155550199", "my account number is <US_BANK_NUMBER>",
          id="bank-account-number"),
        P("checking account 4155550199, call me at 4155550199",
          "checking account <US_BANK_NUMBER>, call me at <PHONE_NUMBER>", id="same-digits-twice"),
        P("my driver license is 4155550199", "my driver license is <US_DRIVER_LICENSE>",
          id="driver-license"),
        P("SSN 415-55-0199", "SSN <US_SSN>", id="ssn-unchanged"),
    ],
)  # fmt: skip
def test_a_review_note_names_a_number_by_its_context(text: str, expected: str) -> None:
    assert masked(text) == expected


def test_the_value_is_one_finding_with_the_best_score() -> None:
    """The phone number keeps the NHS checksum's score: at any threshold it is redacted."""
    text = "call me at 415 555 0199"
    scan = notes().scan({"note": text})
    assert [(f.entity_type, text[f.start : f.end], f.score) for f in scan.findings] == [
        ("PHONE_NUMBER", "415 555 0199", 1.0)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        P("call 912-70-1234", [("US_ITIN", "912-70-1234")], id="itin-form-is-no-ssn"),
        P("my itin is 912 70 1234", [("US_ITIN", "912 70 1234")], id="itin-cue"),
        P("Card number 4926163040404393, expiry 08/26", [("CREDIT_CARD", "4926163040404393")],
          id="card-not-phone"),
        P("(tel:+55-800-12-3456)", [("PHONE_NUMBER", "+55-800-12-3456")],
          id="ssn-groups-inside-a-phone"),
        P("call me on +55 500 12 3456", [("PHONE_NUMBER", "+55 500 12 3456")],
          id="ssn-groups-inside-a-phone-2"),
        P("SSN: 536-22-8761", [("US_SSN", "536-22-8761")], id="ssn"),
        P("call 415-555-0199", [("PHONE_NUMBER", "415-555-0199")], id="phone"),
    ],
)  # fmt: skip
def test_the_pattern_pack_reports_one_type_per_value(
    text: str, expected: list[tuple[str, str]]
) -> None:
    scanner = make_scanner([*NOTE_ENTITIES, "IBAN_CODE"])
    assert found(scanner, text) == expected


def test_a_pack_without_phone_numbers_still_redacts_the_nhs_match() -> None:
    """The label is picked among the types scanned: with no phone type, it stays UK_NHS."""
    scanner = make_scanner(["UK_NHS"])
    assert found(scanner, "call me at 415 555 0199") == [("UK_NHS", "415 555 0199")]


@pytest.mark.parametrize(
    "text",
    [
        "call me at 415 555 0199",
        "my NHS number is 943 476 5919, phone 415 555 0199",
        "checking account 4155550199, call me at 4155550199",
        "tel:+55-800-12-3456 or SSN 536-22-8761",
    ],
)
def test_redacting_twice_is_redacting_once(text: str) -> None:
    scanner = make_scanner([*NOTE_ENTITIES])
    action = message(text)
    once = scanner.redact(action, scanner.scan(action))
    twice = scanner.redact(once, scanner.scan(once))
    assert once == twice
    assert "0199" not in once["params"]["message"]


# -- whatever the labels, the same characters are redacted at any threshold ----------------

TYPES = ("PHONE_NUMBER", "UK_NHS", "US_BANK_NUMBER", "US_SSN", "DATE_TIME", "PERSON", "X")
TEXT = "call my NHS acct at 415 555 0199 or 943 476 5919, SSN 536-22-8761 on 2024-05-01"


@st.composite
def span_lists(draw: st.DrawFn) -> list[Span]:
    out = []
    for _ in range(draw(st.integers(0, 8))):
        start = draw(st.integers(0, len(TEXT) - 1))
        end = draw(st.integers(start + 1, min(len(TEXT), start + 20)))
        score = draw(st.sampled_from([0.0, 0.01, 0.05, 0.4, 0.5, 0.6, 0.85, 1.0]))
        out.append(Span(draw(st.sampled_from(TYPES)), start, end, score, "r"))
    return out


def _covered(spans: list[Span], threshold: float) -> set[int]:
    return {i for s in spans if s.score >= threshold and s.score > 0 for i in range(s.start, s.end)}


@settings(max_examples=300, deadline=None)
@given(span_lists(), st.sampled_from([0.01, 0.3, 0.5, 0.7, 0.9, 1.0]))
def test_relabelling_never_redacts_less(spans: list[Span], threshold: float) -> None:
    """What was redacted still is; a value's part over the threshold redacts all of it."""
    out = relabelled(TEXT, spans)
    assert _covered(spans, threshold) <= _covered(out, threshold) <= _covered(spans, 0.0)
    assert len(out) <= len(spans)
