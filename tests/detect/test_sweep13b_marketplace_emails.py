"""Sweep 13b, e-mail addresses in marketplace messages, checked through the shipped pack.

`jo at gmail.com` was let through while `jo at gmail` was removed: naming the provider's
full domain made the address count less. Providers that are everyday words (`me`, `mail`,
`live`) named alone made `look at me` an address and removed it from the message. An
address wrapped before its `@` (`bob\\n@gmail.com`) was read as a mention and let through,
and one with a quoted local part (`"bob smith"@example.com`) was no address.
"""

from __future__ import annotations

import itertools

import pytest

from guard import Guard
from guard.detect import PiiScanner
from tests.detect.conftest import found, send

P = pytest.param
_actors = itertools.count()


PROVIDER_DOMAINS = [
    P("bob at gmail.com", "bob at gmail.com", id="gmail-com"),
    P("send it to jo at hotmail.com", "jo at hotmail.com", id="hotmail-com"),
    P("jo.smith at yahoo.co.uk thanks", "jo.smith at yahoo.co.uk", id="yahoo-co-uk"),
    P("jo at outlook.com thanks", "jo at outlook.com", id="outlook-com"),
]


@pytest.mark.parametrize(("text", "address"), PROVIDER_DOMAINS)
def test_an_address_at_a_providers_domain_is_removed(pack: Guard, text: str, address: str) -> None:
    verdict, types, final = send(pack, text)
    assert verdict == "redact"
    assert "OBFUSCATED_EMAIL" in types
    assert isinstance(final, dict)
    assert address not in final["params"]["message"]


EVERYDAY_WORDS = [
    P("look at me", id="me"),
    P("Take a look at mail from the courier", id="mail"),
    P("the match at live tonight", id="live"),
    P("see the spec at 163", id="163"),
]


@pytest.mark.parametrize("text", EVERYDAY_WORDS)
def test_a_provider_that_is_an_everyday_word_alone_is_no_address(pack: Guard, text: str) -> None:
    assert send(pack, text)[:2] == ("allow", [])


def test_an_other_domain_with_only_at_spelled_stays_below_the_threshold(
    pattern_scanner: PiiScanner,
) -> None:
    assert found(pattern_scanner, "meet at example.com") == []
    assert found(pattern_scanner, "look at live.com") == []


WRAPPED_BEFORE_AT = [
    P("email me: bob\n@gmail.com", "bob\n@gmail.com", id="newline-before-at"),
    P("bob.smith\n@yahoo.co.uk please", "bob.smith\n@yahoo.co.uk", id="dotted-local"),
    P("bob \n @gmail.com", "bob \n @gmail.com", id="spaces-around-newline"),
]


@pytest.mark.parametrize(("text", "address"), WRAPPED_BEFORE_AT)
def test_an_address_wrapped_before_its_at_is_removed(pack: Guard, text: str, address: str) -> None:
    verdict, types, final = send(pack, text)
    assert (verdict, types) == ("redact", ["OBFUSCATED_EMAIL"])
    assert isinstance(final, dict)
    assert address not in final["params"]["message"]


def test_a_mention_on_its_own_line_is_no_address(pattern_scanner: PiiScanner) -> None:
    assert found(pattern_scanner, "Thanks\n@jo_smith") == []


QUOTED_LOCAL = [
    P('mail "bob smith"@example.com', '"bob smith"@example.com', id="quoted-with-space"),
    P('mail "bob"@gmail.com today', '"bob"@gmail.com', id="quoted-word"),
]


@pytest.mark.parametrize(("text", "address"), QUOTED_LOCAL)
def test_an_address_with_a_quoted_local_part_is_removed(
    pack: Guard, text: str, address: str
) -> None:
    verdict, types, final = send(pack, text)
    assert (verdict, types) == ("redact", ["EMAIL_ADDRESS"])
    assert isinstance(final, dict)
    assert address not in final["params"]["message"]


def test_a_quote_before_a_spaced_at_is_no_address(pattern_scanner: PiiScanner) -> None:
    assert found(pattern_scanner, 'he said "hi"@ the shop') == []


def test_an_attachment_named_after_an_address_is_redacted(pack: Guard) -> None:
    """Sweep 13b: `bob@gmail.com.pdf` as an attachment's name was no address (its domain
    with the extension is no known suffix) and went out before a contract."""
    action = {
        "kind": "send_message",
        "actor": f"seller{next(_actors)}",
        "params": {
            "to": "c1",
            "message": "hi",
            "attachments": [{"name": "bob@gmail.com.pdf", "text": "quote"}],
        },
    }
    d = pack.check(action, {"has_contract": False, "role": "agent"})
    assert (d.verdict.value, [f.entity_type for f in d.pii]) == ("redact", ["EMAIL_ADDRESS"])
    assert isinstance(d.final_action, dict)
    assert d.final_action["params"]["attachments"][0]["name"] == "<EMAIL_ADDRESS>.pdf"


@pytest.mark.parametrize(
    ("text", "address"),
    [
        P("invoice_bob.smith@yahoo.co.uk.docx", "invoice_bob.smith@yahoo.co.uk", id="docx"),
        P("see jo@example.com.txt attached", "jo@example.com", id="txt-in-prose"),
    ],
)
def test_an_address_before_a_file_extension_is_found(
    pattern_scanner: PiiScanner, text: str, address: str
) -> None:
    assert ("EMAIL_ADDRESS", address) in found(pattern_scanner, text)


@pytest.mark.parametrize(
    "text",
    [P("bob@gmail\u3002com", id="ascii-at"), P("bob\uff20gmail\u3002com", id="full-width-at")],
)
def test_an_ideographic_full_stop_is_part_of_the_address(pack: Guard, text: str) -> None:
    """Sweep 13b: the address ended at `。`, and redaction left `<OBFUSCATED_EMAIL>。com`."""
    verdict, _, final = send(pack, text)
    assert verdict == "redact"
    assert isinstance(final, dict)
    assert final["params"]["message"] == "<OBFUSCATED_EMAIL>"
