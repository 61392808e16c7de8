"""Sweep 15: more ways to write an address past a pattern.

Found here: `jo at gmail period com` was found as `jo at gmail` and redacted to
`<OBFUSCATED_EMAIL> period com`; `jo-at-gmail-dot-com` and `jo_at_gmail_dot_com` (the
words joined by dashes or underscores) and `jo.smith@@gmail.com` (a doubled at sign)
were let through.
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


ADDRESSES = [
    P("mail me: jo at gmail period com", "jo at gmail period com", id="period"),
    P("jo (at) outlook (period) com", "jo (at) outlook (period) com", id="bracketed-period"),
    P("reach me jo-at-gmail-dot-com", "jo-at-gmail-dot-com", id="dashes"),
    P("jo_smith_at_yahoo_dot_co_dot_uk ok", "jo_smith_at_yahoo_dot_co_dot_uk", id="underscores"),
    P("jo.smith@@gmail.com for the invoice", "jo.smith@@gmail.com", id="doubled-at"),
    P("jo.smith @@ company.io", "jo.smith @@ company.io", id="doubled-at-spaced"),
]


@pytest.mark.parametrize(("text", "address"), ADDRESSES)
def test_the_address_is_found_whole(scanner: PiiScanner, text: str, address: str) -> None:
    assert found(scanner, text) == [("OBFUSCATED_EMAIL", address)]


@pytest.mark.parametrize(("text", "address"), ADDRESSES)
def test_the_pack_removes_it_whole(pack: Guard, text: str, address: str) -> None:
    verdict, _, final = send(pack, text)
    assert verdict == "redact"
    assert final["params"]["message"] == text.replace(address, "<OBFUSCATED_EMAIL>")  # type: ignore[index]


@pytest.mark.parametrize(
    "text",
    [
        P("stay-at-home mom selling baby clothes", id="stay-at-home"),
        P("pay-at-pickup only, cash", id="pay-at-pickup"),
        P("look-at-me dress, size 10", id="look-at-me"),
        P("the at-home kit, dot-matrix printer", id="at-home-dot-matrix"),
        P("made at home over a long period. Com on, buy it", id="period-prose"),
        P("works at google period", id="period-after-company"),
        P("I was at gmail period, now outlook", id="period-comma"),
    ],
)
def test_prose_stays(scanner: PiiScanner, text: str) -> None:
    assert found(scanner, text) == []
