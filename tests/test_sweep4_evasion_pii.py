"""Contact details written the way abusers write them, each beside a near miss that stays clean.

Every disguise here slipped past the marketplace pack's PII scan (the message was allowed
with the contact detail in it); the near misses are ordinary messages that must not be
redacted.
"""

from __future__ import annotations

import pytest

from guard.detect import PiiScanner
from guard.detect._normalize import normalize
from tests.detect.conftest import PATTERN_ENTITIES, found, make_scanner

P = pytest.param
CONTACT = {
    "EMAIL_ADDRESS",
    "OBFUSCATED_EMAIL",
    "PHONE_NUMBER",
    "OBFUSCATED_PHONE",
    "CONTACT_HANDLE",
}


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return make_scanner(PATTERN_ENTITIES, threshold=0.5)


def contacts(scanner: PiiScanner, text: str) -> list[tuple[str, str]]:
    return [(e, value) for e, value in found(scanner, text) if e in CONTACT]


EVASIONS = [
    # HTML entities and percent-encoding: what a browser or a mail client shows decoded.
    P("john&#64;gmail&#46;com", "OBFUSCATED_EMAIL", "john&#64;gmail&#46;com", id="html-decimal"),
    P("mail john&#x40;gmail.com", "OBFUSCATED_EMAIL", "john&#x40;gmail.com", id="html-hex"),
    P(
        "john&commat;gmail&period;com",
        "OBFUSCATED_EMAIL",
        "john&commat;gmail&period;com",
        id="html-named",
    ),
    P(
        "jo&#64;example.co&#109;",
        "OBFUSCATED_EMAIL",
        "jo&#64;example.co&#109;",
        id="html-entity-at-the-end",
    ),
    P("john%40gmail.com", "OBFUSCATED_EMAIL", "john%40gmail.com", id="percent-encoded-at"),
    P("t%2Eme/john_smith", "CONTACT_HANDLE", "t%2Eme/john_smith", id="percent-encoded-link"),
    # Emoji: keycap digits and emoji between the digit groups.
    P(
        "0\ufe0f\u20e37\ufe0f\u20e39\ufe0f\u20e31\ufe0f\u20e31\ufe0f\u20e31\ufe0f\u20e3"
        "2\ufe0f\u20e33\ufe0f\u20e34\ufe0f\u20e35\ufe0f\u20e36\ufe0f\u20e3",
        "OBFUSCATED_PHONE",
        "0\ufe0f\u20e37\ufe0f\u20e39\ufe0f\u20e31\ufe0f\u20e31\ufe0f\u20e31\ufe0f\u20e3"
        "2\ufe0f\u20e33\ufe0f\u20e34\ufe0f\u20e35\ufe0f\u20e36",
        id="keycap-digits",
    ),
    P("07911\U0001f538123456", "OBFUSCATED_PHONE", "07911\U0001f538123456", id="emoji-between"),
    P(
        "0791 \u2b50 112 \u2b50 3456 ok",
        "OBFUSCATED_PHONE",
        "0791 \u2b50 112 \u2b50 3456",
        id="spaced-emoji-between",
    ),
    # Digits and number words glued together.
    P("4one6 5five5 0one99", "OBFUSCATED_PHONE", "4one6 5five5 0one99", id="glued-words"),
    P("41six55five01nine9", "OBFUSCATED_PHONE", "41six55five01nine9", id="glued-words-one-token"),
    # Digits of two scripts in one number.
    P(
        "4\u06616\u0665\u0665\u0665\u0660\u0661\u0669\u0669",
        "OBFUSCATED_PHONE",
        "4\u06616\u0665\u0665\u0665\u0660\u0661\u0669\u0669",
        id="mixed-script-digits",
    ),
    # Handles: a comma after the platform, a mail provider named as the platform.
    P("find me on telegram, john_smith", "CONTACT_HANDLE", "john_smith", id="comma-after-platform"),
    P("my gmail is jsmith88", "CONTACT_HANDLE", "jsmith88", id="provider-as-platform"),
    P("gmail: jsmith", "CONTACT_HANDLE", "jsmith", id="provider-with-colon"),
]

NEAR_MISSES = [
    P("AT&amp;T coverage is fine &amp; cheap", id="html-entity-in-prose"),
    P("we are 100%25 sure, 50%off today", id="percent-in-prose"),
    P("5\ufe0f\u20e3 stars, 10/10 \U0001f44d", id="keycap-rating"),
    P("\u2b50\u2b50\u2b50\u2b50\u2b50 4 of 5 from 120 reviews", id="emoji-ratings"),
    P("Order 12345 \u2705 shipped 2 boxes", id="emoji-after-an-order-number"),
    P(
        "Prices: 100 \u27a1\ufe0f 120 \u27a1\ufe0f 150 after the change",
        id="emoji-arrows-in-prices",
    ),
    P("Deadline: 12/05 \U0001f550 17:00 CET", id="emoji-in-a-date-and-time"),
    P("I need 2 logos, 1 banner and 3 icons", id="quantities-with-words"),
    P("the 1st draft, 2nd draft and 3rd one", id="ordinals"),
    P("mp3 h264 4k60 1080p exports", id="codecs-and-formats"),
    P("\u0661\u0662\u0663 USD for the draft", id="other-script-price"),
    P("I moved to telegram, thanks", id="comma-then-a-word"),
    P("I use gmail for work", id="provider-in-prose"),
    P("the outlook is good", id="outlook-in-prose"),
]


@pytest.mark.parametrize(("text", "entity", "value"), EVASIONS)
def test_disguised_contact_details_are_found(
    scanner: PiiScanner, text: str, entity: str, value: str
) -> None:
    assert (entity, value) in contacts(scanner, text)


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_have_no_contact_details(scanner: PiiScanner, text: str) -> None:
    assert contacts(scanner, text) == []


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        P("a&#64;b", "a@b", id="decimal"),
        P("a&#x40;b&amp;", "a@b&", id="hex-and-named"),
        P("a%40b%2e", "a@b.", id="percent"),
        P("AT&T &#; &#xzz; 100%", "AT&T &#; &#xzz; 100%", id="no-escape"),
        P("5\ufe0f\u20e3", "5", id="keycap"),
    ],
)
def test_escapes_are_decoded_and_map_back(text: str, folded: str) -> None:
    norm = normalize(text)
    assert norm.text == folded
    assert norm.span(0, len(norm.text)) == (0, len(text.rstrip("\ufe0f\u20e3")))
