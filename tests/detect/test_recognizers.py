"""Table tests of the recognizers, with near-miss negatives, through the real scanner."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guard.detect import PiiScanner
from tests.detect.conftest import found

P = pytest.param

OBFUSCATED_EMAILS = [
    P("mail jo at example dot com thanks", "jo at example dot com", id="spelled-at-dot"),
    P("jo [at] example [dot] com", "jo [at] example [dot] com", id="brackets"),
    P("jo(at)example(dot)com", "jo(at)example(dot)com", id="parens-no-spaces"),
    P("JO AT EXAMPLE DOT COM", "JO AT EXAMPLE DOT COM", id="upper-case"),
    P("reach jo @ example . com", "jo @ example . com", id="spaced-symbols"),
    P("jo@example dot com", "jo@example dot com", id="symbol-at-spelled-dot"),
    P(
        "write to j o @ e x a m p l e . c o m now",
        "j o @ e x a m p l e . c o m",
        id="letter-spacing",
    ),
    P("jo\uff20example\uff0ecom", "jo\uff20example\uff0ecom", id="full-width"),
    P("jo@exa\u200bmple.com", "jo@exa\u200bmple.com", id="zero-width-inside"),
    P(
        "jo dot smith at example dot co dot uk",
        "jo dot smith at example dot co dot uk",
        id="dots-in-local",
    ),
    P("email me: jo.smith at gmail", "jo.smith at gmail", id="bare-provider"),
    P("email: jo at example.com", "jo at example.com", id="weak-form-lifted-by-context"),
]
NOT_OBFUSCATED_EMAILS = [
    P("see you at the meeting dot point", id="meeting-dot-point"),
    P("find us at acme.com for details", id="stop-word-before-at"),
    P("jo@example.com", id="plain-email-is-email-address"),
    P("price at 5.99 dollars", id="price"),
    P("I'm at home. Com is short for comedy", id="apostrophe-word"),
    P("meet at noon dot then lunch", id="no-tld"),
    P("jo at example.com", id="weak-form-without-context"),
]


@pytest.mark.parametrize(("text", "expected"), OBFUSCATED_EMAILS)
def test_obfuscated_email_is_found(pattern_scanner: PiiScanner, text: str, expected: str) -> None:
    assert ("OBFUSCATED_EMAIL", expected) in found(pattern_scanner, text)


@pytest.mark.parametrize("text", NOT_OBFUSCATED_EMAILS)
def test_obfuscated_email_near_misses(pattern_scanner: PiiScanner, text: str) -> None:
    assert [e for e, _ in found(pattern_scanner, text) if e == "OBFUSCATED_EMAIL"] == []


def test_obfuscated_email_hash_matches_the_plain_address(pattern_scanner: PiiScanner) -> None:
    plain = pattern_scanner.scan({"params": {"message": "jo@example.com"}}).findings[0]
    hidden = pattern_scanner.scan({"params": {"message": "jo [at] example [dot] com"}}).findings[0]
    assert (plain.entity_type, hidden.entity_type) == ("EMAIL_ADDRESS", "OBFUSCATED_EMAIL")
    assert plain.value_hash == hidden.value_hash


OBFUSCATED_PHONES = [
    P(
        "call four one six five five five zero one nine nine",
        "four one six five five five zero one nine nine",
        id="spelled",
    ),
    P("four one six 555 0199", "four one six 555 0199", id="spelled-and-digits"),
    P(
        "four one six double five five zero one nine nine",
        "four one six double five five zero one nine nine",
        id="double",
    ),
    P("4 1 6 5 5 5 0 1 9 9", "4 1 6 5 5 5 0 1 9 9", id="one-by-one"),
    P("five five five one two three four", "five five five one two three four", id="555-1234"),
    P("reach me at 416.555.0199", "416.555.0199", id="dots"),
    P("416/555/0199", "416/555/0199", id="slashes"),
    P("416_555_0199", "416_555_0199", id="underscores"),
    P("4l6-555-O199", "4l6-555-O199", id="look-alike-letters"),
    P(
        "\uff14\uff11\uff16\uff15\uff15\uff15\uff10\uff11\uff19\uff19",
        "\uff14\uff11\uff16\uff15\uff15\uff15\uff10\uff11\uff19\uff19",
        id="full-width-digits",
    ),
    P(
        "\u2463\u2460\u2465\u2464\u2464\u2464\u2460\u2468\u2468",
        "\u2463\u2460\u2465\u2464\u2464\u2464\u2460\u2468\u2468",
        id="circled-digits",
    ),
]
NOT_OBFUSCATED_PHONES = [
    P("The price is $1,249.99 for 3 licences", id="price"),
    P("$2,500,000.00", id="large-amount"),
    P("Price: $1,234,567.89 total", id="large-price"),
    P("1.234.567,89 EUR", id="european-amount"),
    P("€ 416.555.0199", id="currency-sign-before"),
    P("Order #4165550199 shipped", id="order-number"),
    P("Invoice INV-2024-0012 is due on 05/06/2024", id="invoice-and-date"),
    P("on 2024.05.01 at 10.30", id="dotted-date"),
    P("01.05.2024 10.30", id="date-and-time"),
    P("server 192.168.10.254", id="ip-address"),
    P("version 1.2.3", id="version"),
    P("1.234.567.890 euros", id="thousands"),
    P("I have one or two questions", id="prose-numbers"),
    P("one two three", id="too-few-words"),
    P("Step one two three four five six seven", id="counting-up"),
    P("nine eight seven six five four three two one, lift off", id="counting-down"),
    P("open 9.00 - 17.00", id="opening-hours"),
    P("416 555 0199", id="ordinary-spacing"),
    P("416-555-0199", id="ordinary-dashes"),
]


@pytest.mark.parametrize(("text", "expected"), OBFUSCATED_PHONES)
def test_obfuscated_phone_is_found(pattern_scanner: PiiScanner, text: str, expected: str) -> None:
    assert ("OBFUSCATED_PHONE", expected) in found(pattern_scanner, text)


@pytest.mark.parametrize("text", NOT_OBFUSCATED_PHONES)
def test_obfuscated_phone_near_misses(pattern_scanner: PiiScanner, text: str) -> None:
    assert [e for e, _ in found(pattern_scanner, text) if e == "OBFUSCATED_PHONE"] == []


HANDLES = [
    P("skype: jo.smith", "jo.smith", id="skype-colon"),
    P("add me on telegram @jo_smith pls", "@jo_smith", id="telegram-at"),
    P("my whatsapp is jo_smith", "jo_smith", id="is-handle"),
    P("IG: @jo.smith", "@jo.smith", id="ig-colon-at"),
    P("discord jo#1234", "jo#1234", id="discord-tag"),
    P("skype live:jo.smith", "live:jo.smith", id="skype-live-id"),
    P("line id: jo123", "jo123", id="ambiguous-platform-with-id"),
    P("find me at t.me/jo_smith", "t.me/jo_smith", id="telegram-link"),
    P("https://wa.me/14165550199", "https://wa.me/14165550199", id="whatsapp-link"),
    P("skype: josmith", "josmith", id="plain-name-after-colon"),
]
NOT_HANDLES = [
    P("I use skype for calls", id="stop-word"),
    P("telegram is blocked here", id="is-generic-word"),
    P("the signal was weak", id="signal-the-word"),
    P("stand in line for tickets", id="line-the-word"),
    P("we can do a skype call tomorrow", id="skype-call"),
    P("my ig is great", id="ambiguous-without-marker"),
    P("Skype me", id="no-handle"),
    P("skype jo@example.com", id="email-not-handle"),
]


@pytest.mark.parametrize(("text", "expected"), HANDLES)
def test_contact_handle_is_found(pattern_scanner: PiiScanner, text: str, expected: str) -> None:
    assert ("CONTACT_HANDLE", expected) in found(pattern_scanner, text)


@pytest.mark.parametrize("text", NOT_HANDLES)
def test_contact_handle_near_misses(pattern_scanner: PiiScanner, text: str) -> None:
    assert [e for e, _ in found(pattern_scanner, text) if e == "CONTACT_HANDLE"] == []


PRESIDIO_ENTITIES = [
    P("mail me at jo@example.com", "EMAIL_ADDRESS", "jo@example.com", id="email"),
    P("my phone number is 416-555-0199", "PHONE_NUMBER", "416-555-0199", id="phone-with-context"),
    P(
        "call me at 416-555-0199",
        "PHONE_NUMBER",
        "416-555-0199",
        id="call-is-context-not-stop-word",
    ),
    P("card 4111 1111 1111 1111 please", "CREDIT_CARD", "4111 1111 1111 1111", id="card-luhn-ok"),
    P("my ssn is 536-90-4399", "US_SSN", "536-90-4399", id="ssn"),
    P("wire to DE89370400440532013000", "IBAN_CODE", "DE89370400440532013000", id="iban"),
    P("server 10.1.2.3 is down", "IP_ADDRESS", "10.1.2.3", id="ipv4"),
]
PRESIDIO_NEAR_MISSES = [
    P("card 4111 1111 1111 1112 please", "CREDIT_CARD", id="card-failing-luhn"),
    P("The total is $1,249.99 for 3 revisions", "PHONE_NUMBER", id="price"),
    P("Delivered on 05/06/2024, as promised", "PHONE_NUMBER", id="date"),
    P("Order #A-20240517-0042 shipped", "PHONE_NUMBER", id="order-number"),
    P("ssn 000-12-3456", "US_SSN", id="ssn-invalid-area"),
    P("my ssn is 123-45-6789", "US_SSN", id="ssn-well-known-sample"),
    P("jo@localhost", "EMAIL_ADDRESS", id="email-without-public-suffix"),
    P("reach me at 4165550199", "PHONE_NUMBER", id="bare-digits-without-context"),
    P("Order 123456789 shipped", "PHONE_NUMBER", id="order-digits"),
    P("Order 416-555-0199 shipped", "PHONE_NUMBER", id="grouped-after-identifier-word"),
    P("$2,500,000.00", "PHONE_NUMBER", id="large-amount"),
    P("Price: $1,234,567.89 total", "PHONE_NUMBER", id="large-price"),
    P("USD 4165550199", "PHONE_NUMBER", id="currency-code"),
    P("Whitelist the IP 195.223.54.200 today", "PHONE_NUMBER", id="ipv4"),
]


@pytest.mark.parametrize(("text", "entity", "expected"), PRESIDIO_ENTITIES)
def test_presidio_entities(
    pattern_scanner: PiiScanner, text: str, entity: str, expected: str
) -> None:
    assert (entity, expected) in found(pattern_scanner, text)


@pytest.mark.parametrize(("text", "entity"), PRESIDIO_NEAR_MISSES)
def test_presidio_near_misses(pattern_scanner: PiiScanner, text: str, entity: str) -> None:
    assert [e for e, _ in found(pattern_scanner, text) if e == entity] == []


NER = [
    P(
        "My name is John Smith and I live in Toronto.",
        [("PERSON", "John Smith"), ("LOCATION", "Toronto")],
        id="person-and-city",
    ),
    P("Ask Maria Garcia about the invoice.", [("PERSON", "Maria Garcia")], id="person"),
]


@pytest.mark.parametrize(("text", "expected"), NER)
def test_ner_entities(ner_scanner: PiiScanner, text: str, expected: list[tuple[str, str]]) -> None:
    got = found(ner_scanner, text)
    assert set(expected) <= set(got)


# -- the phone recognizer's shortcut finds exactly what Presidio's own recognizer finds --


def _phone_texts(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    pieces = [
        "call",
        "me",
        "on",
        "+1",
        "(416)",
        "555-0199",
        "416.555.0199",
        "020 7946 0958",
        "+44 20 7946 0958",
        "030 123456",
        "0049 30 1234567",
        "12",
        "2024",
        "8443",
        "$1,249.99",
        "05/06/2024",
        "10:30",
        "4111 1111 1111 1111",
        "ext. 12",
        "x34",
        "+49 (0)30 1234 5678",
        "0171 1234567",
        "98765 43210",
        "+91 98765 43210",
        "06 12 34 56 78",
        "(11) 91234-5678",
        "+55 11 91234 5678",
        "03-1234567",
        "+972 3-123-4567",
        "1-800-555-0199",
        "011 44 20 7946 0958",
    ]
    return [" ".join(rng.choice(pieces) for _ in range(rng.randint(1, 9))) for _ in range(n)]


def test_phone_shortcut_matches_presidio_exactly() -> None:
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    from guard.detect._recognizers import GuardPhoneRecognizer, has_digit_cluster

    stock, ours, cluster = PhoneRecognizer(), GuardPhoneRecognizer(), has_digit_cluster()
    for text in _phone_texts(7, 400):
        expected = sorted((r.start, r.end, r.score) for r in stock.analyze(text, ["PHONE_NUMBER"]))
        got = ours.presidio_analyze(text) if cluster(text) else []
        assert sorted((r.start, r.end, r.score) for r in got) == expected, text


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="0123456789 +-().x/:#ext,", max_size=40))
def test_phone_shortcut_matches_presidio_on_any_digit_soup(text: str) -> None:
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    from guard.detect._recognizers import GuardPhoneRecognizer, has_digit_cluster

    stock = sorted((r.start, r.end) for r in PhoneRecognizer().analyze(text, ["PHONE_NUMBER"]))
    ours = GuardPhoneRecognizer().presidio_analyze(text) if has_digit_cluster()(text) else []
    assert sorted((r.start, r.end) for r in ours) == stock


# -- phone numbers found by how they are written, without an English context word --------

PHONES_WITHOUT_CONTEXT = [
    P("reach me at +1 416 555 0199", "+1 416 555 0199", id="international-us"),
    P("416-555-0199", "416-555-0199", id="us-dashes"),
    P("(416) 555-0199 anytime", "(416) 555-0199", id="us-parentheses"),
    P("dial 1-800-555-0199", "1-800-555-0199", id="us-trunk-prefix"),
    P("WhatsApp +91 98765 43210", "+91 98765 43210", id="india"),
    P("Ring me on +44 7911 123456", "+44 7911 123456", id="uk-international"),
    P("text me 07911 123456", "07911 123456", id="uk-national"),
    P("Meine Nummer: +49 30 12345678", "+49 30 12345678", id="germany"),
    P("Appelez-moi au 06 12 34 56 78", "06 12 34 56 78", id="france"),
    P("tel +55 11 91234-5678", "+55 11 91234-5678", id="brazil"),
    P("x, 415-555-0132, y", "415-555-0132", id="between-commas"),
    P("+14165550199", "+14165550199", id="international-without-spaces"),
]


@pytest.mark.parametrize(("text", "expected"), PHONES_WITHOUT_CONTEXT)
def test_phone_numbers_without_a_context_word(
    pattern_scanner: PiiScanner, text: str, expected: str
) -> None:
    assert ("PHONE_NUMBER", expected) in found(pattern_scanner, text)


def test_written_form_only_raises_presidios_scores() -> None:
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    from guard.detect._recognizers import GuardPhoneRecognizer, has_digit_cluster

    stock, ours, cluster = PhoneRecognizer(), GuardPhoneRecognizer(), has_digit_cluster()
    for text in _phone_texts(11, 300):
        expected = {(r.start, r.end): r.score for r in stock.analyze(text, ["PHONE_NUMBER"])}
        got = ours.analyze(text, ["PHONE_NUMBER"]) if cluster(text) else []
        for r in got:
            assert r.score >= expected[(r.start, r.end)], text
        dropped = set(expected) - {(r.start, r.end) for r in got}
        assert all("$" in text for _ in dropped), text  # only amounts of money are dropped


# -- pre-filters never hide a finding -------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Nd", "Cs")), max_size=120))
def test_digit_prefilters_hold_on_digit_free_text(text: str) -> None:
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        IbanRecognizer,
        MedicalLicenseRecognizer,
        NhsRecognizer,
        UsBankRecognizer,
        UsItinRecognizer,
        UsPassportRecognizer,
        UsSsnRecognizer,
    )

    from guard.detect._recognizers import GuardSsnRecognizer

    for cls in (
        CreditCardRecognizer,
        IbanRecognizer,
        MedicalLicenseRecognizer,
        NhsRecognizer,
        UsBankRecognizer,
        UsItinRecognizer,
        UsPassportRecognizer,
        UsSsnRecognizer,
        GuardSsnRecognizer,
    ):
        assert cls().analyze(text, cls().supported_entities) == [], cls.__name__


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="@", blacklist_categories=("Cs",))))
def test_email_prefilter_holds_without_at_sign(text: str) -> None:
    from guard.detect._recognizers import OfflineEmailRecognizer

    assert OfflineEmailRecognizer().analyze(text, ["EMAIL_ADDRESS"]) == []
