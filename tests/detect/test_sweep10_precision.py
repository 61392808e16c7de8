"""Sweep 10, precision: values found inside other values, reserved-TLD addresses, and
texts in other scripts, with emoji, bidi marks and wrapped lines."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from guard.detect import PiiScanner, PiiSettings, Span
from tests.detect.conftest import KEY, found, make_scanner, message

P = pytest.param

# -- a value inside another value is part of it --------------------------------------------


class Fixed:
    """A detector that reports the spans it was given, whatever the text."""

    name = "fixed"

    def __init__(self, *spans: Span) -> None:
        self.spans = list(spans)

    def detect(self, texts: Sequence[str], entities: Sequence[str]) -> list[list[Span]]:
        return [list(self.spans) for _ in texts]


def _fixed(*spans: Span, allow: Sequence[str] = ()) -> PiiScanner:
    entities = sorted({s.entity_type for s in spans})
    settings = PiiSettings(entities=entities, fields=["params.message"], allow_list=list(allow))
    return PiiScanner(settings, detector=Fixed(*spans), hash_key=KEY)


LINK = "see https://shop.example.org/Anna-Maria now"  # the URL is [4, 39), the name [29, 39)
IBAN = "pay DE89 3704 0044 0532 0130 00 now"  # the IBAN is [4, 31)
WIDE_CARD = "\uff14" + "\uff11" * 15  # 4111111111111111 in full-width digits


@pytest.mark.parametrize(
    ("text", "outer", "inner"),
    [
        P(LINK, Span("URL", 4, 39, 0.6, "url"), Span("PERSON", 29, 39, 0.85, "ner"), id="url"),
        P(LINK, Span("URL", 4, 39, 0.6, "url"), Span("PERSON", 4, 39, 0.85, "ner"), id="same"),
        P(
            IBAN,
            Span("IBAN_CODE", 4, 31, 1.0, "iban"),
            Span("PERSON", 9, 18, 0.85, "ner"),
            id="iban",
        ),
        P(
            LINK,
            Span("URL", 4, 39, 0.6, "url"),
            Span("LOCATION", 9, 13, 0.85, "ner"),
            id="location",
        ),
    ],
)
def test_a_name_inside_a_pattern_value_is_not_reported_on_its_own(
    text: str, outer: Span, inner: Span
) -> None:
    scanner = _fixed(outer, inner)
    scan = scanner.scan(message(text))
    assert [f.entity_type for f in scan.findings] == [outer.entity_type]
    redacted = scanner.redact(message(text), scan)["params"]["message"]
    assert text[inner.start : inner.end] not in redacted
    assert redacted == text[: outer.start] + f"<{outer.entity_type}>" + text[outer.end :]


def test_a_name_inside_an_allow_listed_value_is_still_reported() -> None:
    """Fail-safe: what is not redacted as the outer value is redacted as the name."""
    scanner = _fixed(
        Span("URL", 4, 39, 0.6, "url"),
        Span("PERSON", 29, 39, 0.85, "ner"),
        allow=["https://shop.example.org/Anna-Maria"],
    )
    assert [f.entity_type for f in scanner.scan(message(LINK)).findings] == ["PERSON"]


def test_a_name_inside_a_value_below_the_threshold_is_still_reported() -> None:
    scanner = _fixed(Span("URL", 4, 39, 0.3, "url"), Span("PERSON", 29, 39, 0.85, "ner"))
    assert [f.entity_type for f in scanner.scan(message(LINK)).findings] == ["PERSON"]


def test_a_name_reaching_out_of_a_value_is_reported_with_it() -> None:
    scanner = _fixed(Span("URL", 4, 39, 0.6, "url"), Span("PERSON", 29, 43, 0.85, "ner"))
    assert [f.entity_type for f in scanner.scan(message(LINK)).findings] == ["URL", "PERSON"]


def test_a_pattern_value_inside_another_is_still_reported() -> None:
    """A phone number in a link is a phone number: only names and domains are parts."""
    text = "see https://x.io/call?tel=4165550199 now"
    scanner = _fixed(Span("URL", 4, 36, 0.6, "url"), Span("PHONE_NUMBER", 26, 36, 0.75, "phone"))
    assert [f.entity_type for f in scanner.scan(message(text)).findings] == [
        "URL",
        "PHONE_NUMBER",
    ]


@pytest.fixture(scope="module")
def wide() -> PiiScanner:
    return make_scanner(
        ["PERSON", "LOCATION", "URL", "EMAIL_ADDRESS", "IBAN_CODE", "OBFUSCATED_EMAIL"]
    )


def test_the_model_reading_a_link_as_a_name_reports_the_link(wide: PiiScanner) -> None:
    text = "My profile is at https://github.com/MariaGarcia"
    assert found(wide, text) == [("URL", "https://github.com/MariaGarcia")]


def test_without_urls_in_the_pack_the_name_in_a_link_is_reported() -> None:
    scanner = make_scanner(["PERSON"])
    text = "My profile is at https://github.com/MariaGarcia"
    assert [e for e, _ in found(scanner, text)] == ["PERSON"]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        P("mail John.Doe@company.com", "John.Doe@company.com", id="local-part-as-url"),
        P("Email: Peter.Miller@web.de", "Peter.Miller@web.de", id="domain-as-url"),
        P("escribe a maría.garcía@correo.es", "maría.garcía@correo.es", id="accented"),
    ],
)
def test_presidio_urls_inside_an_address_are_part_of_it(
    wide: PiiScanner, text: str, address: str
) -> None:
    assert found(wide, text) == [("EMAIL_ADDRESS", address)]


# -- addresses in reserved top-level domains -----------------------------------------------

RESERVED = [
    P("write to anna@shop.example", "anna@shop.example", id="example"),
    P("write to jo@mail.test today", "jo@mail.test", id="test"),
    P("bounce: bob@foo.invalid", "bob@foo.invalid", id="invalid"),
    P("root is x@host.localhost", "x@host.localhost", id="localhost"),
    P("ANNA@SHOP.EXAMPLE wrote", "ANNA@SHOP.EXAMPLE", id="upper-case"),
    P("a.b@c.d.test", "a.b@c.d.test", id="subdomain"),
]


@pytest.mark.parametrize(("text", "address"), RESERVED)
def test_an_address_in_a_reserved_domain_is_an_address(
    wide: PiiScanner, text: str, address: str
) -> None:
    assert found(wide, text) == [("EMAIL_ADDRESS", address)]


def test_a_bare_reserved_name_is_no_domain(wide: PiiScanner) -> None:
    assert found(wide, "jo@localhost and jo@example") == []


def test_a_spelled_address_in_a_reserved_domain_is_an_obfuscated_address(
    wide: PiiScanner,
) -> None:
    text = "write anna [at] shop [dot] example"
    assert found(wide, text) == [("OBFUSCATED_EMAIL", "anna [at] shop [dot] example")]


def test_an_allow_listed_reserved_address_is_not_reported() -> None:
    scanner = make_scanner(["EMAIL_ADDRESS"], allow_list=["support@marketplace.example"])
    assert found(scanner, "write support@marketplace.example or anna@shop.example") == [
        ("EMAIL_ADDRESS", "anna@shop.example")
    ]


# -- texts nobody wrote for the recognizers ------------------------------------------------

ADDRESSES_IN_SCRIPTS = [
    P("私のメールはjo.smith@gmail.comです", id="japanese"),
    P("我的邮箱是jo.smith@gmail.com，电话", id="chinese"),
    P("jo.smith@gmail.com으로 보내주세요", id="korean"),
    P("อีเมลjo.smith@gmail.comครับ", id="thai"),
    P("\u2709\ufe0fjo.smith@gmail.com", id="emoji-with-variation-selector"),
    P("\u202bjo.smith@gmail.com\u202c", id="bidi-embedding"),
]


@pytest.fixture(scope="module")
def addresses() -> PiiScanner:
    """No NER: the English model reads a run of CJK letters around an address as one
    name or place, which redaction merges with the address (more is redacted, not less)."""
    return make_scanner(["EMAIL_ADDRESS", "URL", "OBFUSCATED_EMAIL"])


@pytest.mark.parametrize("text", ADDRESSES_IN_SCRIPTS)
def test_an_address_next_to_unspaced_script_or_emoji_is_the_address(
    addresses: PiiScanner, text: str
) -> None:
    assert found(addresses, text) == [("EMAIL_ADDRESS", "jo.smith@gmail.com")]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        P("我的邮箱是jo(at)gmail(dot)com谢谢", "jo(at)gmail(dot)com", id="chinese"),
        P("メールjo at gmail dot comまで", "jo at gmail dot com", id="japanese"),
    ],
)
def test_a_spelled_address_next_to_unspaced_script_is_found(
    addresses: PiiScanner, text: str, address: str
) -> None:
    assert found(addresses, text) == [("OBFUSCATED_EMAIL", address)]


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        P("카드4111 1111 1111 1111입니다", "CREDIT_CARD", "4111 1111 1111 1111", id="card-korean"),
        P("卡号4111111111111111", "CREDIT_CARD", "4111111111111111", id="card-chinese"),
        P("カード番号は" + WIDE_CARD + "です", "CREDIT_CARD", WIDE_CARD, id="card-full-width"),
        P("社会保障番号536-90-4399です", "US_SSN", "536-90-4399", id="ssn-japanese"),
    ],
)  # fmt: skip
def test_a_number_next_to_unspaced_script_is_found(
    pattern_scanner: PiiScanner, text: str, entity: str, value: str
) -> None:
    assert (entity, value) in found(pattern_scanner, text)


def test_letters_of_unspaced_scripts_make_no_number(pattern_scanner: PiiScanner) -> None:
    assert found(pattern_scanner, "第4111号1111号1111号1111") == []


def test_an_allow_listed_address_after_an_emoji_stays_allowed() -> None:
    scanner = make_scanner(["EMAIL_ADDRESS"], allow_list=["jo.smith@gmail.com"])
    assert found(scanner, "\u2709\ufe0fjo.smith@gmail.com") == []


def test_an_address_in_a_script_written_with_letters_keeps_them(
    addresses: PiiScanner,
) -> None:
    assert found(addresses, "почта: иван@почта.рф") == [("EMAIL_ADDRESS", "иван@почта.рф")]


def test_a_zero_width_space_in_an_address_gives_one_finding(wide: PiiScanner) -> None:
    text = "mail jo\u200b.smith@gmail.com now"
    assert found(wide, text) == [("OBFUSCATED_EMAIL", "jo\u200b.smith@gmail.com")]


WRAPPED = [
    P("call me at 416-555-\n0199", "416-555-\n0199", id="after-dash"),
    P("call me at 416-555-\r\n0199 today", "416-555-\r\n0199", id="after-dash-crlf"),
    P("call me at 416.555.\n0199", "416.555.\n0199", id="after-dot"),
]


@pytest.mark.parametrize(("text", "phone"), WRAPPED)
def test_a_number_wrapped_after_its_separator_is_one_number(text: str, phone: str) -> None:
    scanner = make_scanner(["PHONE_NUMBER"])
    assert found(scanner, text) == [("PHONE_NUMBER", phone)]


def test_a_list_of_ranges_one_per_line_is_no_number() -> None:
    scanner = make_scanner(["PHONE_NUMBER"])
    assert found(scanner, "pages 10-\n20 and 30-\n40") == []


# -- a URL's host ends where its word ends ------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        P("Peter.Miller said hi", id="name-with-dot"),
        P("skype: jo.smith", id="handle"),
        P("see maria.garcía tomorrow", id="accented"),
    ],
)
def test_a_word_starting_with_a_domain_is_no_url(text: str) -> None:
    assert found(make_scanner(["URL"]), text) == []


@pytest.mark.parametrize(
    ("text", "url"),
    [
        P("go to shop.example.org/Anna-Maria now", "shop.example.org/Anna-Maria", id="path"),
        P("see https://x.io.", "https://x.io", id="sentence-end"),
        P("at www.example.co.uk, or", "www.example.co.uk", id="comma"),
        P("link 'https://shop.com/a'", "'https://shop.com/a'", id="quoted"),
    ],
)
def test_urls_are_still_found(text: str, url: str) -> None:
    assert found(make_scanner(["URL"]), text) == [("URL", url)]


@pytest.mark.parametrize(
    "text",
    [
        P("\u200fJohn Smith\u200f wrote", id="right-to-left-marks"),
        P("Hi \u2067John Smith\u2069, thanks", id="isolate"),
        P("Hi\u200bJohn Smith, thanks", id="zero-width-space"),
    ],
)
def test_a_name_between_invisible_characters_is_the_name(text: str) -> None:
    """The model read a bidi mark as part of the word after it, or the name as none."""
    assert found(make_scanner(["PERSON"]), text) == [("PERSON", "John Smith")]
    assert found(make_scanner(["PERSON"], allow_list=["John Smith"]), text) == []
