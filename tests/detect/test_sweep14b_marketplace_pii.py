"""Sweep 14b, contact details in marketplace messages, through the shipped pack and the scanner.

`contact no. 91-98765-43210`, an Indian mobile written with its country code but no `+`,
was let through: a number written as `+91 98765 43210` is, less the plus, grouped as its
country writes it, yet it scored as a bare run of digits and "contact no." named no phone.
`maria.g@hotmail.c0m`, a zero for the `o` of the top-level domain, was cut at the
provider, so `.c0m` stayed in the message; an unknown domain (`jo@acme.c0m`) was no
address at all.
"""

from __future__ import annotations

import pytest

from guard import Guard
from guard.detect import PiiScanner
from tests.detect.conftest import found, send

P = pytest.param

COUNTRY_CODE_WITHOUT_PLUS = [
    P("contact no. 91-98765-43210", "91-98765-43210", id="india-dashes"),
    P("contact no. 91 98765 43210 anytime", "91 98765 43210", id="india-spaces"),
    P("reach me on 44 20 7946 0958 after six", "44 20 7946 0958", id="uk-london"),
    P("dispo au 33 6 12 34 56 78 le soir", "33 6 12 34 56 78", id="france-mobile"),
]


@pytest.mark.parametrize(("text", "number"), COUNTRY_CODE_WITHOUT_PLUS)
def test_a_number_with_its_country_code_but_no_plus_is_removed(
    pack: Guard, pattern_scanner: PiiScanner, text: str, number: str
) -> None:
    assert ("PHONE_NUMBER", number) in found(pattern_scanner, text)
    verdict, types, final = send(pack, text)
    assert (verdict, types) == ("redact", ["PHONE_NUMBER"])
    assert isinstance(final, dict)
    assert number not in final["params"]["message"]


NOT_A_NUMBER_TO_CALL = [
    P("order 91-98765-43210 shipped today", id="order-number"),
    P("invoice 44 20 7946 0958 is paid", id="invoice-number"),
    P("tracking 91-98765-43210", id="tracking-number"),
    # grouped otherwise than the country writes it: a code, not a number to call
    P("batch 9198-7654-3210 arrived", id="regrouped"),
    P("lot 91987-65432-10 arrived", id="other-grouping"),
]


@pytest.mark.parametrize("text", NOT_A_NUMBER_TO_CALL)
def test_an_identifier_or_a_code_with_the_same_digits_stays(pack: Guard, text: str) -> None:
    assert send(pack, text)[:2] == ("allow", [])


LOOK_ALIKE_SUFFIX = [
    P("email maria.g@hotmail.c0m for the photos", "maria.g@hotmail.c0m", id="provider-c0m"),
    P("write to jo@acme.c0m thanks", "jo@acme.c0m", id="unknown-domain-c0m"),
    P("reach me: sam@mybakery.0rg", "sam@mybakery.0rg", id="0rg"),
    P("mail jo at acme dot c0m", "jo at acme dot c0m", id="spelled-dot-c0m"),
]


@pytest.mark.parametrize(("text", "address"), LOOK_ALIKE_SUFFIX)
def test_an_address_with_a_zero_for_the_o_of_its_suffix_is_removed_whole(
    pack: Guard, pattern_scanner: PiiScanner, text: str, address: str
) -> None:
    assert ("OBFUSCATED_EMAIL", address) in found(pattern_scanner, text)
    verdict, types, final = send(pack, text)
    assert (verdict, types) == ("redact", ["OBFUSCATED_EMAIL"])
    assert isinstance(final, dict)
    message = final["params"]["message"]
    assert address.rpartition(".")[2] not in message and address.partition("@")[0] not in message


def test_the_look_alike_address_hashes_as_the_real_one(pattern_scanner: PiiScanner) -> None:
    real = pattern_scanner.scan({"kind": "m", "params": {"message": "maria.g@hotmail.com"}})
    fake = pattern_scanner.scan({"kind": "m", "params": {"message": "maria.g@hotmail.c0m"}})
    assert [f.value_hash for f in fake.findings] == [f.value_hash for f in real.findings]


NOT_AN_ADDRESS = [
    P("buy 2@1.5x the price", id="ratio"),
    P("score was 3@1.0 at half time", id="digits-only-suffix"),
    P("ping ci@build.b4d", id="no-such-suffix-folded"),
    P("pay 2@1.0m each", id="one-letter-label"),
]


@pytest.mark.parametrize("text", NOT_AN_ADDRESS)
def test_digits_after_an_at_sign_that_fold_to_no_suffix_stay(pack: Guard, text: str) -> None:
    assert send(pack, text)[:2] == ("allow", [])
