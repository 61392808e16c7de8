"""Sweep 15: an allow-listed number is allowed however it is written.

Found here: `allow_list` compared the text as written, so a marketplace that listed its
support line as `+44 20 7946 0958` had its own number redacted when a message wrote it
`+442079460958`, `020 7946 0958` or `020-7946-0958`, and a test card listed as
`4111 1111 1111 1111` was redacted written `4111-1111-1111-1111`. Numbers are now
compared by their digits (a phone number also less its country code, as dialled at
home); another number stays found.
"""

from __future__ import annotations

import pytest

from guard.detect import PiiScanner
from tests.detect.conftest import found, make_scanner

P = pytest.param


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return make_scanner(
        allow_list=["+44 20 7946 0958", "4111 1111 1111 1111", "GB82 WEST 1234 5698 7654 32"]
    )


@pytest.mark.parametrize(
    "text",
    [
        P("support: +442079460958", id="phone-unspaced"),
        P("support: 020 7946 0958", id="phone-national"),
        P("support: 020-7946-0958", id="phone-dashes"),
        P("support: 0044 20 7946 0958", id="phone-idd"),
        P("whatsapp support: 020 7946 0958", id="phone-after-an-app"),
        P("test card 4111-1111-1111-1111", id="card-dashes"),
        P("test card 4111111111111111", id="card-unspaced"),
        P("our account GB82WEST12345698765432", id="iban-unspaced"),
        P("our account gb82 west 1234 5698 7654 32", id="iban-lower"),
    ],
)
def test_the_listed_number_is_allowed(scanner: PiiScanner, text: str) -> None:
    assert found(scanner, text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        P("call 020 7946 0959", "020 7946 0959", id="other-phone"),
        P("call +1 207 946 0958", "+1 207 946 0958", id="same-digits-other-country"),
        P("card 4242 4242 4242 4242", "4242 4242 4242 4242", id="other-card"),
        P("iban DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00", id="other-iban"),
    ],
)
def test_another_number_is_still_found(scanner: PiiScanner, text: str, value: str) -> None:
    assert [v for _, v in found(scanner, text)] == [value]
