"""Sweep 13b, a phone number written one digit group a line, checked through the shipped
pack: `call me at 416\\n555\\n0199` went out unredacted before a contract, though
`416-555-\\n0199` and `416 555 🙂 0199` were removed. Numbers listed one a line
(quantities, prices, years) stay ordinary text.
"""

from __future__ import annotations

import pytest

from guard import Guard
from tests.detect.conftest import send

P = pytest.param


LINE_BROKEN = [
    P("call me at 416\n555\n0199", "416\n555\n0199", id="nanp-three-lines"),
    P("my number:\n416\n555\n0199", "416\n555\n0199", id="nanp-after-cue-line"),
    P("text me at 416\n555-0199", "416\n555-0199", id="nanp-two-lines"),
    P("call me\n06\n12\n34\n56\n78", "06\n12\n34\n56\n78", id="french-mobile"),
    P("call me\n0151\n2345\n6789", "0151\n2345\n6789", id="german-mobile"),
]


@pytest.mark.parametrize(("text", "number"), LINE_BROKEN)
def test_a_number_one_group_a_line_is_removed(pack: Guard, text: str, number: str) -> None:
    verdict, types, final = send(pack, text)
    assert (verdict, types) == ("redact", ["OBFUSCATED_PHONE"])
    assert isinstance(final, dict)
    assert number not in final["params"]["message"]


LISTS = [
    P("Years:\n2019\n2020\n2021", id="years"),
    P("Qty:\n120\n250\n3000", id="quantities"),
    P("Phone case prices:\n450\n1200\n3500", id="prices-after-cue-word"),
    P("Sizes\n36\n38\n40\n42", id="sizes"),
    P("Items\n12\n345\n6789", id="item-counts"),
    P("Call me about the quote:\n- 250\n- 350\n- 4100", id="bulleted-after-cue-word"),
]


@pytest.mark.parametrize("text", LISTS)
def test_numbers_listed_one_a_line_are_no_phone(pack: Guard, text: str) -> None:
    assert send(pack, text)[:2] == ("allow", [])
