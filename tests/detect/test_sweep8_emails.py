"""Sweep 8, e-mail addresses: an address right after an opening quote is still one."""

from __future__ import annotations

import pytest

from guard.detect import PiiScanner
from tests.detect.conftest import found, make_scanner

P = pytest.param

QUOTED = [
    P("note 'john%40gmail.com'", "john%40gmail.com", id="single-quote-percent-escape"),
    P("note 'john&#64;gmail&#46;com'", "john&#64;gmail&#46;com", id="single-quote-html-escape"),
    P("write 'jo at gmail dot com' please", "jo at gmail dot com", id="single-quote-spelled"),
    P("email \u2018jo(at)gmail(dot)com\u2019", "jo(at)gmail(dot)com", id="curly-quote-bracketed"),
    P("mail:'jo.smith [at] yahoo [dot] com'", "jo.smith [at] yahoo [dot] com", id="after-colon"),
]


@pytest.mark.parametrize(("text", "address"), QUOTED)
def test_an_obfuscated_address_after_an_opening_quote_is_found(
    pattern_scanner: PiiScanner, text: str, address: str
) -> None:
    assert ("OBFUSCATED_EMAIL", address) in found(pattern_scanner, text)


NOT_AN_ADDRESS = [
    P("that's at apple.com, not here", id="contraction-s"),
    P("we're at acme.com all week", id="contraction-re"),
    P("it\u2019s at example.org now", id="curly-contraction"),
]


@pytest.mark.parametrize("text", NOT_AN_ADDRESS)
def test_a_contraction_before_at_is_no_local_part(pattern_scanner: PiiScanner, text: str) -> None:
    assert [f for f in found(pattern_scanner, text) if f[0] == "OBFUSCATED_EMAIL"] == []


IN_URLS = [
    P("https://shop.example/track?email=jo.smith@gmail.com&id=7", "jo.smith@gmail.com", id="query"),
    P("https://x.io/?u=jo.smith@gmail.com", "jo.smith@gmail.com", id="query-after-slash"),
    P("see example.com/a/b/jo@gmail.com", "jo@gmail.com", id="path"),
    P("x.io/#/invite&to=jo@gmail.com", "jo@gmail.com", id="fragment"),
]


@pytest.mark.parametrize(("text", "address"), IN_URLS)
def test_an_address_in_a_url_is_found_without_the_url(
    pattern_scanner: PiiScanner, text: str, address: str
) -> None:
    assert ("EMAIL_ADDRESS", address) in found(pattern_scanner, text)


def test_an_allow_listed_address_in_a_url_stays_allowed() -> None:
    scanner = make_scanner(["EMAIL_ADDRESS"], allow_list=["support@shop.com"])
    text = "help: https://help.shop.com/contact?to=support@shop.com"
    assert found(scanner, text) == []


def test_plain_addresses_keep_their_local_part(pattern_scanner: PiiScanner) -> None:
    text = "mail j.o'neil+shop@gmail.com or jo_smith-99@mail-host.co.uk"
    emails = [v for e, v in found(pattern_scanner, text) if e == "EMAIL_ADDRESS"]
    assert emails == ["j.o'neil+shop@gmail.com", "jo_smith-99@mail-host.co.uk"]
