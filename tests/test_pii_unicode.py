"""The shipped marketplace pack catches card numbers, phone numbers, IBANs and SSNs written
with other spaces, dashes and digits than ASCII ones, and SSNs written after their name.

Regressions: `card 4111<NBSP>1111<NBSP>1111<NBSP>1111` (and thin, narrow no-break and figure
spaces, a zero-width space, full-width digits) was `allow` with nothing found, and the
raw number went to the audit log; `ssn: 536228761` was missed, and `social security
number is 097630465` was reported as a phone number; `43.6532, -79.3832` was an
OBFUSCATED_PHONE.
"""

from __future__ import annotations

import itertools
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guard import Guard, Verdict
from guard.detect import PiiScanner, PiiSettings

P = pytest.param
FULL_WIDTH = str.maketrans("0123456789+-", "０１２３４５６７８９＋－")
ODD_SPACES = [
    P("\u00a0", id="no-break-space"),
    P("\u2009", id="thin-space"),
    P("\u202f", id="narrow-no-break-space"),
    P("\u2007", id="figure-space"),
    P("\u3000", id="ideographic-space"),
    P("\u200b", id="zero-width-space"),
    P("\u2060", id="word-joiner"),
    P("\u200e", id="left-to-right-mark"),
    P("\u2013", id="en-dash"),
    P("\u2011", id="non-breaking-hyphen"),
    P("\u00a0\u200b", id="no-break-and-zero-width"),
]
CARD = "4111 1111 1111 1111"
_SENDERS = itertools.count()


@pytest.fixture(scope="module")
def market() -> Iterator[Guard]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield Guard.from_policy("marketplace-agent")


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    entities = ["CREDIT_CARD", "IBAN_CODE", "US_SSN", "PHONE_NUMBER", "OBFUSCATED_PHONE"]
    settings_ = PiiSettings(entities=entities, fields=["params.message"], threshold=0.5)
    return PiiScanner(settings_, hash_key=b"test-key")


def send(text: str, actor: str = "u1") -> dict[str, Any]:
    return {"kind": "send_message", "actor": actor, "params": {"to": "u2", "message": text}}


def spans(scanner: PiiScanner, text: str) -> list[tuple[str, str]]:
    scan = scanner.scan(send(text))
    assert not scan.report.field_errors
    return [(f.entity_type, text[f.start : f.end]) for f in scan.findings]


def _redacted(guard: Guard, text: str, contract: bool = True) -> tuple[Any, str]:
    # A sender of its own each time: the pack's rate limit counts messages per sender.
    d = guard.check(send(text, actor=f"a{next(_SENDERS)}"), {"has_contract": contract})
    assert d.final_action is not None
    return d, d.final_action["params"]["message"]


# -- card numbers --------------------------------------------------------------------------


@pytest.mark.parametrize("sep", ODD_SPACES)
def test_a_card_number_with_odd_separators_is_redacted(market: Guard, sep: str) -> None:
    number = CARD.replace(" ", sep)
    d, message = _redacted(market, f"card {number} thanks")
    assert d.verdict is Verdict.REDACT
    assert [h.rule_id for h in d.hits] == ["no-card-or-ssn-in-messages"]
    assert [(f.entity_type, f.start, f.end) for f in d.pii] == [("CREDIT_CARD", 5, 5 + len(number))]
    assert message == "card <CREDIT_CARD> thanks"  # the odd separators went with the number


@pytest.mark.parametrize(
    "number",
    [
        P(CARD.translate(FULL_WIDTH), id="full-width-spaced"),
        P("4111111111111111".translate(FULL_WIDTH), id="full-width"),
        P(CARD.translate(FULL_WIDTH).replace(" ", "\u3000"), id="full-width-ideographic-space"),
        P("\u0664" + "\u0661" * 15, id="arabic-indic-digits"),
        P("4111\u200b1111\u200b1111\u200b111\u200b1", id="zero-width-inside-a-group"),
    ],
)
def test_a_card_number_in_other_digits_is_redacted(market: Guard, number: str) -> None:
    d, message = _redacted(market, f"my card: {number}")
    assert d.verdict is Verdict.REDACT
    assert [f.entity_type for f in d.pii] == ["CREDIT_CARD"]
    assert message == "my card: <CREDIT_CARD>"


def test_a_failing_luhn_check_still_fails_in_full_width(market: Guard) -> None:
    d, _ = _redacted(market, "order ref " + "4111 1111 1111 1112".translate(FULL_WIDTH))
    assert d.verdict is Verdict.ALLOW and d.pii == []


def test_the_audit_log_never_stores_the_number(tmp_path: Path) -> None:
    number = CARD.replace(" ", "\u00a0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        guard = Guard.from_policy("marketplace-agent", audit=f"sqlite:///{tmp_path / 'a.db'}")
    try:
        d = guard.check(send(f"card {number}, ssn: 536228761"), {"has_contract": True})
        assert d.audited and d.verdict is Verdict.REDACT
        assert guard.audit is not None
        stored = json.dumps(guard.audit.get(d.id).record, ensure_ascii=False)
    finally:
        guard.close()
    assert "<CREDIT_CARD>" in stored and "<US_SSN>" in stored
    assert "1111" not in stored and "536228761" not in stored


# -- phone numbers, IBANs, SSNs --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        P(
            "reach me at +1\u00a0416\u00a0555\u00a00199",
            "+1\u00a0416\u00a0555\u00a00199",
            id="nbsp",
        ),
        P(
            "reach me at +1\u2009416\u2009555\u20090199",
            "+1\u2009416\u2009555\u20090199",
            id="thin",
        ),
        P("reach me at +1\u200b416\u200b555\u200b0199", "+1\u200b416\u200b555\u200b0199", id="zw"),
        P("reach me at 416\u2013555\u20130199", "416\u2013555\u20130199", id="en-dash"),
        P(
            "reach me at ＋１ ４１６ ５５５ ０１９９",
            "＋１ ４１６ ５５５ ０１９９",
            id="full-width",
        ),
        P(
            "reach me at 06\u202f12\u202f34\u202f56\u202f78",
            "06\u202f12\u202f34\u202f56\u202f78",
            id="fr",
        ),
    ],
)
def test_a_phone_number_with_odd_separators_is_redacted_before_a_contract(
    market: Guard, text: str, number: str
) -> None:
    d, message = _redacted(market, text, contract=False)
    assert d.verdict is Verdict.REDACT
    assert [h.rule_id for h in d.hits] == ["no-contact-before-contract"]
    phones = [text[f.start : f.end] for f in d.pii if f.entity_type == "PHONE_NUMBER"]
    assert phones == [number]
    # One placeholder: the digits disguised as other digits are an OBFUSCATED_PHONE too.
    assert message.count("<") == 1 and message.endswith(("<PHONE_NUMBER>", "<OBFUSCATED_PHONE>"))
    assert not any(c.isdecimal() for c in message)


@pytest.mark.parametrize(
    "iban",
    [
        P("DE89\u00a03704\u00a00044\u00a00532\u00a00130\u00a000", id="nbsp"),
        P("DE89\u20093704\u20090044\u20090532\u20090130\u200900", id="thin"),
        P("DE89\u200b3704\u200b0044\u200b0532\u200b0130\u200b00", id="zero-width"),
        P("ＤＥ８９ ３７０４ ００４４ ０５３２ ０１３０ ００", id="full-width"),
    ],
)
def test_an_iban_with_odd_separators_is_found(scanner: PiiScanner, iban: str) -> None:
    assert spans(scanner, f"wire it to {iban} please") == [("IBAN_CODE", iban)]


@pytest.mark.parametrize(
    ("text", "ssn"),
    [
        P("ssn: 536228761", "536228761", id="digits-only"),
        P("SSN#536228761", "536228761", id="ssn-hash"),
        P("my SSN is 536228761.", "536228761", id="ssn-is"),
        P("my ssn number is 536228761", "536228761", id="ssn-number-is"),
        P("social security number: 536228761", "536228761", id="social-security-number"),
        P("Social Security No. 536 22 8761", "536 22 8761", id="no-and-spaces"),
        P("social security number is 536.22.8761", "536.22.8761", id="dots"),
        P("ssn: 536\u00a022\u00a08761", "536\u00a022\u00a08761", id="nbsp"),
        P("ssn: 536-22-8761", "536-22-8761", id="dashes"),
        P("ssn: ５３６-２２-８７６１", "５３６-２２-８７６１", id="full-width"),
        P("ssn\u200b536228761", "536228761", id="zero-width-after-the-name"),
        P(
            "Social Security No. 536\u201122\u20118761",
            "536\u201122\u20118761",
            id="non-breaking-hyphens",
        ),
        P("ssn: 536\u200922\u20098761", "536\u200922\u20098761", id="thin"),
    ],
)
def test_an_ssn_after_its_name_is_an_ssn(market: Guard, text: str, ssn: str) -> None:
    d, message = _redacted(market, text, contract=False)
    assert d.verdict is Verdict.REDACT
    assert [h.rule_id for h in d.hits] == ["no-card-or-ssn-in-messages"]
    assert [(f.entity_type, text[f.start : f.end]) for f in d.pii] == [("US_SSN", ssn)]
    assert "<US_SSN>" in message and not any(c.isdecimal() for c in message)


@pytest.mark.parametrize(
    "text",
    [
        # Its digits are a valid phone number too, and "number" lifts phone matches.
        P("My social security number is 097630465, please keep it private.", id="plain"),
        P("My social security number is 097-63-0465, please keep it private.", id="dashes"),
        P("my ssn number is 097 63 0465", id="spaces"),
    ],
)
def test_an_ssn_after_its_name_is_not_a_phone_number(market: Guard, text: str) -> None:
    d, _ = _redacted(market, text, contract=False)
    assert {f.entity_type for f in d.pii} == {"US_SSN"}
    assert [h.rule_id for h in d.hits] == ["no-card-or-ssn-in-messages"]


@pytest.mark.parametrize(
    "text",
    [
        P("order 536228761 shipped", id="bare-nine-digits"),
        P("ref 536228761", id="ref"),
        P("security deposit 536228761", id="security-alone"),
        P("my social media id 536228761", id="social-alone"),
        P("ssn: 123456789", id="well-known-sample"),
        P("ssn: 000228761", id="area-000"),
        P("ssn: 536-22.8761", id="mixed-separators"),
        P("ssn: 5362287610", id="ten-digits"),
        P("ssn and phone below. 536228761", id="not-right-after-the-name"),
    ],
)
def test_nine_digits_without_the_name_right_before_are_no_ssn(
    scanner: PiiScanner, text: str
) -> None:
    assert [s for s in spans(scanner, text) if s[0] == "US_SSN"] == []


# -- near misses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        P("43.6532, -79.3832", id="toronto"),
        P("meet me at 43.6532,-79.3832 tomorrow", id="no-space"),
        P("-33.8688, 151.2093", id="sydney"),
        P("pin: 51.5074 -0.1278", id="london-space-only"),
        P("1\u202f234\u202f567\u202f890 units", id="french-thousands-narrow-nbsp"),
        P("1\u00a0234\u00a0567 EUR", id="amount-nbsp"),
        P("Delivered on 05/06/2024\u00a0as promised", id="date-nbsp"),
    ],
)
def test_coordinates_and_numbers_with_odd_spaces_are_no_phone(market: Guard, text: str) -> None:
    d, message = _redacted(market, text, contract=False)
    assert d.verdict is Verdict.ALLOW, [(f.entity_type, f.score) for f in d.pii]
    assert message == text


# -- redaction is idempotent with odd characters too -----------------------------------------

VALUES = [
    CARD,
    "4111111111111111",
    "+1 416 555 0199",
    "416 555 0199",
    "536 22 8761",
    "536228761",
    "DE89 3704 0044 0532 0130 00",
    "43.6532, -79.3832",
    "1 234 567",
    "ssn",
    "social security number",
    "card",
    "phone",
    "is",
    "<PHONE_NUMBER>",
    "****",
]
SEPARATORS = ["", " ", "-", "\u00a0", "\u2009", "\u202f", "\u200b", "\u200e", "\u2013", "\u3000"]


@st.composite
def odd_texts(draw: st.DrawFn) -> str:
    out = []
    for value in draw(st.lists(st.sampled_from(VALUES), max_size=7)):
        if draw(st.booleans()):
            value = value.replace(" ", draw(st.sampled_from(SEPARATORS)))
        if draw(st.booleans()):
            value = value.translate(FULL_WIDTH)
        out += [value, draw(st.sampled_from(SEPARATORS))]
    return "".join(out)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(odd_texts())
def test_redacting_twice_equals_redacting_once(scanner: PiiScanner, text: str) -> None:
    action = send(text)
    scan = scanner.scan(action)
    assert all(0 <= f.start < f.end <= len(text) for f in scan.findings)
    once = scanner.redact(action, scan)
    assert scanner.scan(once).findings == ()
    assert scanner.redact(once, scanner.scan(once)) == once
