"""Numbers whose digit groups stand across a tab or one line break are found.

No digit recognizer joined groups across `\\t` or `\\n`; the engine now also reads the
text with such breaks as spaces, keeping only findings that span one (so a number at
the end of a line is never merged away with the next line's first number).
"""

from __future__ import annotations

import pytest

from guard.detect import PiiScanner
from tests.detect.conftest import found

P = pytest.param

ACROSS_BREAKS = [
    P("4111\t1111\t1111\t1111", "CREDIT_CARD", "4111\t1111\t1111\t1111", id="card-tabs"),
    P("4111 1111\n1111 1111", "CREDIT_CARD", "4111 1111\n1111 1111", id="card-wrapped"),
    P("4111 1111 1111\r\n1111", "CREDIT_CARD", "4111 1111 1111\r\n1111", id="card-crlf"),
    P(
        "card: 5555\t5555\t5555\t4444 exp 12/27",
        "CREDIT_CARD",
        "5555\t5555\t5555\t4444",
        id="card-tabs-in-text",
    ),
    P("+44 20\n7946 0958", "PHONE_NUMBER", "+44 20\n7946 0958", id="phone-wrapped"),
    P("my number is 416 555\n0199", "PHONE_NUMBER", "416 555\n0199", id="phone-wrapped-us"),
    P("+1 416\t555\t0199", "PHONE_NUMBER", "+1 416\t555\t0199", id="phone-tabs"),
    P("Call 416 555 0199\n2 boxes left", "PHONE_NUMBER", "416 555 0199", id="not-merged"),
    P("Name\tPhone\nJo\t416-555-0199\t12", "PHONE_NUMBER", "416-555-0199", id="table-cell"),
]
NOT_ACROSS_BREAKS = [
    P("4111\t1111\t1111\t1112", id="card-tabs-failing-luhn"),
    P("4111 1111\n1111 1112", id="card-wrapped-failing-luhn"),
    P("Qty\n120\n450\n300\n", id="quantities"),
    P("1000\n2000\n3000\n4000", id="one-number-a-line"),
    P("boxes: 416\n555 0199 pallets", id="lone-group-before-break"),
    P("apples 12\n416\n555 boxes", id="quantities-with-words"),
    P("Jo\t3000\t4000", id="two-table-cells"),
    P("id\tqty\tprice\n1\t20\t3\n2\t45\t7", id="table"),
    P("2019\t2020\t2021\t2022", id="years-in-a-row"),
    P("Totals:\n12 500\n13 400\n14 250", id="thousands-one-a-line"),
    P("416 555\n\n0199 4111", id="blank-line-between"),
]


@pytest.mark.parametrize(("text", "entity", "expected"), ACROSS_BREAKS)
def test_numbers_across_a_break(
    pattern_scanner: PiiScanner, text: str, entity: str, expected: str
) -> None:
    assert (entity, expected) in found(pattern_scanner, text)


@pytest.mark.parametrize("text", NOT_ACROSS_BREAKS)
def test_break_near_misses(pattern_scanner: PiiScanner, text: str) -> None:
    got = [e for e, _ in found(pattern_scanner, text) if e in {"PHONE_NUMBER", "CREDIT_CARD"}]
    assert got == []


def test_joined_reading_maps_back_to_the_original() -> None:
    from guard.detect._normalize import join_digit_breaks

    text = "x 4111\r\n1111\u00a01111\t1111"
    joined = join_digit_breaks(text)
    assert joined is not None and joined.text == "x 4111 1111 1111 1111"
    assert joined.span(2, len(joined.text)) == (2, len(text))


def test_no_break_between_digits_means_no_second_reading() -> None:
    from guard.detect._normalize import join_digit_breaks

    assert join_digit_breaks("line one\nline 2\n\n3 4") is None


@pytest.mark.parametrize(
    ("inside", "expected"),
    [
        P("4111 1111\n1111 1111", True, id="one-break"),
        P("4111\t1111\t1111", True, id="tabs"),
        P("41 11\n1111\n1111", False, id="two-breaks"),
        P("3000\n4000", False, id="two-lines-of-one-group"),
        P("4111 1111 1111", False, id="no-break"),
    ],
)
def test_spans_a_break(inside: str, expected: bool) -> None:
    from guard.detect._normalize import spans_a_break

    assert spans_a_break(inside, 0, len(inside)) is expected
