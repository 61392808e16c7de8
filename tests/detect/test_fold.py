"""Folding for the digit recognizers: what is folded, and the map back to the original text."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guard.detect import PiiScanner
from guard.detect._entities import FOLDED_ENTITIES, OUTRANKS, PATTERN_RECOGNIZERS
from guard.detect._normalize import INVISIBLE, fold_digits, fold_table
from tests.detect.conftest import found

P = pytest.param


def test_ascii_and_unchanged_texts_are_not_folded() -> None:
    assert fold_digits("card 4111 1111 1111 1111") is None
    assert fold_digits("") is None
    assert fold_digits("café, naïve, 東京") is None


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        P("4111\u00a01111\u20091111\u202f1111\u2007", "4111 1111 1111 1111 ", id="spaces"),
        P("４１１１－１１１１", "4111-1111", id="full-width"),
        P("\u0664\u0661 \u0967\u0968 \U0001d7cf", "41 12 1", id="other-scripts"),
        P("416\u2013555\u2212\u20110199", "416-555--0199", id="dashes"),
        P("ＤＥ８９ ＡＢ", "DE89 AB", id="full-width-letters"),
    ],
)
def test_one_character_for_one(text: str, folded: str) -> None:
    result = fold_digits(text)
    assert result is not None and result.text == folded
    assert [result.offset(i) for i in range(len(folded))] == list(range(len(text)))


@pytest.mark.parametrize(
    ("text", "folded", "offsets"),
    [
        # Dropped between digits and next to what is no word character...
        P("41\u200b11", "4111", [0, 1, 3, 4], id="between-digits"),
        P("\u200b41\u200e\u200b-1\u2060", "41-1", [1, 2, 5, 6], id="edges-and-dashes"),
        P("4111\u00a0\u200b1111", "4111 1111", [0, 1, 2, 3, 4, 6, 7, 8, 9], id="after-a-space"),
        # ...and a space between two words, so `ssn<ZWSP>536228761` keeps its boundary.
        P("ssn\u200b53", "ssn 53", [0, 1, 2, 3, 4, 5], id="letter-then-digit"),
        P("ab\u200b\u200ccd", "ab cd", [0, 1, 2, 4, 5], id="between-letters"),
    ],
)
def test_invisible_characters(text: str, folded: str, offsets: list[int]) -> None:
    result = fold_digits(text)
    assert result is not None and result.text == folded
    assert [result.offset(i) for i in range(len(folded))] == offsets


def test_a_span_maps_to_the_original_characters_it_came_from() -> None:
    text = "card ４１１１\u200b１１１１\u00a0１１１１\u200b\u200b1111!"
    result = fold_digits(text)
    assert result is not None
    start = result.text.index("4111")
    end = result.text.index("!")
    assert result.text[start:end] == "41111111 11111111"
    assert result.span(start, end) == (5, text.index("!"))


ODD = "\u00a0\u2009\u202f\u2007\u3000\u200b\u200c\u200d\u2060\ufeff\u200e\u2013\u2212"
ALPHABET = st.sampled_from(list("0123456789 -.ab+") + list(ODD) + ["４", "٤", "é", "\n"])


@settings(max_examples=300, deadline=None)
@given(st.text(ALPHABET, max_size=40))
def test_every_folded_character_comes_from_its_original(text: str) -> None:
    result = fold_digits(text)
    if result is None:
        assert text.isascii() or text.translate(fold_table()) == text
        return
    offsets = [result.offset(i) for i in range(len(result.text))]
    assert offsets == sorted(set(offsets))  # increasing: spans map to spans
    assert all(0 <= o < len(text) for o in offsets)
    for char, origin in zip(result.text, offsets, strict=True):
        source = text[origin]
        if source in INVISIBLE:
            assert char == " "  # a word boundary that was there
        else:
            assert source.translate(fold_table()) == char
    dropped = set(range(len(text))) - set(offsets)
    assert all(text[i] in INVISIBLE for i in dropped)


def test_the_fold_table_folds_to_ascii_only() -> None:
    table = fold_table()
    assert all(len(v) == 1 and v.isascii() for v in table.values())
    assert all(
        unicodedata.category(chr(k)) in {"Nd", "Zs", "Pd", "Sm"} or k >= 0xFF01 for k in table
    )
    assert " " not in {chr(k) for k in table} and "\t" not in {chr(k) for k in table}


def test_folded_entities_are_builtin_pattern_entities() -> None:
    assert FOLDED_ENTITIES <= set(PATTERN_RECOGNIZERS)


def test_outranking_patterns_exist() -> None:
    from guard.detect._recognizers import GuardSsnRecognizer

    names = {p.name for p in GuardSsnRecognizer().patterns}
    assert OUTRANKS and all(e == "US_SSN" and p in names for e, p in OUTRANKS)


# -- through the scanner -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        P(
            "card 4111\u00a01111\u00a01111\u00a01111",
            ("CREDIT_CARD", "4111\u00a01111\u00a01111\u00a01111"),
        ),
        P("social security number is 536\u202f22\u202f8761", ("US_SSN", "536\u202f22\u202f8761")),
        P("ssn:\u00a0536228761", ("US_SSN", "536228761")),
        P(
            "wire to DE89\u20093704\u20090044\u20090532\u20090130\u200900",
            ("IBAN_CODE", "DE89\u20093704\u20090044\u20090532\u20090130\u200900"),
        ),
        P("server １０.１.２.３ is down", ("IP_ADDRESS", "１０.１.２.３")),
    ],
)
def test_folded_values_are_found_on_the_original_text(
    pattern_scanner: PiiScanner, text: str, expected: tuple[str, str]
) -> None:
    assert expected in found(pattern_scanner, text)


@pytest.mark.parametrize(
    "text",
    [
        P("43.6532, -79.3832", id="coordinates"),
        P("meet at 43.6532,-79.3832", id="coordinates-no-space"),
        P("1\u202f234\u202f567\u202f890", id="narrow-no-break-thousands"),
        P("ssn: 536\u00a022\u00a08761", id="an-ssn-with-no-break-spaces"),
        P("+1\u00a0416\u00a0555\u00a00199", id="a-phone-number-with-no-break-spaces"),
    ],
)
def test_no_obfuscated_phone(pattern_scanner: PiiScanner, text: str) -> None:
    assert [e for e, _ in found(pattern_scanner, text) if e == "OBFUSCATED_PHONE"] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        P("４l６-555-O199", "４l６-555-O199", id="look-alike-letters-and-full-width"),
        P("41\u200b65\u200b55\u200b01\u200b99", "41\u200b65\u200b55\u200b01\u200b99", id="zw"),
        P("416.555.0199", "416.555.0199", id="dots"),
        P("43.6532.1234.567", "43.6532.1234.567", id="four-dotted-groups-are-no-coordinates"),
    ],
)
def test_disguised_phones_are_still_obfuscated_phones(
    pattern_scanner: PiiScanner, text: str, expected: str
) -> None:
    assert ("OBFUSCATED_PHONE", expected) in found(pattern_scanner, text)
