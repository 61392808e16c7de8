"""Sweep 15: the `hash` operator's token is the same for the same value, however written.

Found here: the token was a keyed hash of the characters as written, so `jo@x.com` and
`JO@X.COM`, or `+44 7911 123456` and `+447911123456`, or `jo at gmail dot com` and
`jo@gmail.com`, got different tokens, and none matched the finding's `value_hash` (which
is taken over the canonical value: e-mail in lower case, a phone's digits, a disguised
address as the address). A reviewer linking the same contact across messages by its
token could not. Now the token is the first sixteen hex digits of `value_hash`, written
in the letters a-p.
"""

from __future__ import annotations

import re

import pytest

from guard.detect import PiiScanner
from guard.detect._redact import hash_token
from tests.detect.conftest import make_scanner, message

P = pytest.param


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return make_scanner(default_operator="hash")


def _tokens(scanner: PiiScanner, text: str) -> list[str]:
    scan = scanner.scan(message(text))
    out = scanner.redact(message(text), scan)["params"]["message"]
    return re.findall(r"<[A-Z_]+#[a-p]{16}>", out)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        P("mail jo@x.com", "mail JO@X.COM", id="email-case"),
        P("call +44 7911 123456", "call +447911123456", id="phone-spacing"),
        P("call 07911 123456", "call 07911-123-456", id="phone-grouping"),
    ],
)
def test_one_value_one_token(scanner: PiiScanner, first: str, second: str) -> None:
    one, two = _tokens(scanner, first), _tokens(scanner, second)
    assert len(one) == 1 and one == two


def test_the_token_is_the_findings_hash(scanner: PiiScanner) -> None:
    text = "write jo at gmail dot com or call +44 7911 123456"
    scan = scanner.scan(message(text))
    out = scanner.redact(message(text), scan)["params"]["message"]
    expected = [hash_token(f.entity_type, f.value_hash or "") for f in scan.findings]
    assert re.findall(r"<[A-Z_]+#[a-p]{16}>", out) == expected


def test_two_values_two_tokens(scanner: PiiScanner) -> None:
    tokens = _tokens(scanner, "mail jo@x.com or al@x.com")
    assert len(set(tokens)) == 2
