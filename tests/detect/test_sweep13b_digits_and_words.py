"""Sweep 13b, a phone number of digits with one or two number words between them, checked
through the shipped pack: `call 4 one 6 - 5 5 5 - o 1 9 9` and `416 triple five 0199`
went out unredacted before a contract (three number words or more were needed).
Counts written as a word before or after numbers stay ordinary text.
"""

from __future__ import annotations

import pytest

from guard import Guard
from tests.detect.conftest import send

P = pytest.param


MIXED = [
    P("call 4 one 6 - 5 5 5 - o 1 9 9", "4 one 6 - 5 5 5 - o 1 9 9", id="one-and-oh"),
    P("ring 416 triple five 0199", "416 triple five 0199", id="triple-five"),
    P("text 4 one 6 555 0199 tonight", "4 one 6 555 0199", id="one-word"),
]


@pytest.mark.parametrize(("text", "number"), MIXED)
def test_digits_with_a_number_word_between_are_removed(pack: Guard, text: str, number: str) -> None:
    verdict, types, final = send(pack, text)
    assert (verdict, types) == ("redact", ["OBFUSCATED_PHONE"])
    assert isinstance(final, dict)
    assert number not in final["params"]["message"]


COUNTS = [
    P("order one 250 350 4100", id="word-before"),
    P("two 1000 2000 3000 packs", id="word-before-thousands"),
    P("sizes 10 one 20 two 30 40", id="short-numbers"),
    P("1200 or two 3500 4000", id="prices"),
]


@pytest.mark.parametrize("text", COUNTS)
def test_counts_written_as_words_are_no_phone(pack: Guard, text: str) -> None:
    assert send(pack, text)[:2] == ("allow", [])


# Sweep 13b: a Cyrillic or Greek letter that looks like 0 or 1 inside a digit group
# (`416-555-О199`) was no number, where a Latin `O` or `l` was one.
OTHER_SCRIPT_GLYPHS = [
    P("call 416-555-\u041e199", "416-555-\u041e199", id="cyrillic-capital-o"),
    P("call 416-555-\u039f199", "416-555-\u039f199", id="greek-capital-omicron"),
    P("call 4\u04066-555-0199", "4\u04066-555-0199", id="cyrillic-capital-i"),
    P("call 416-555-\u043e199", "416-555-\u043e199", id="cyrillic-small-o"),
]


@pytest.mark.parametrize(("text", "number"), OTHER_SCRIPT_GLYPHS)
def test_a_look_alike_letter_of_another_script_is_removed(
    pack: Guard, text: str, number: str
) -> None:
    verdict, types, final = send(pack, text)
    assert (verdict, types) == ("redact", ["OBFUSCATED_PHONE"])
    assert isinstance(final, dict)
    assert number not in final["params"]["message"]


def test_a_russian_company_form_is_no_number(pack: Guard) -> None:
    assert send(pack, "\u041e\u041e\u041e 123")[:2] == ("allow", [])
