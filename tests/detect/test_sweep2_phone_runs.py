"""Phone numbers one after another, or followed by a short number, are found.

phonenumbers read `416 555 0199 416 555 0123` or `+44 20 7946 0958 24/7` as one long
invalid candidate and found nothing; `PhoneRunRecognizer` splits such runs.
"""

from __future__ import annotations

import pytest

from guard.detect import PiiScanner
from tests.detect.conftest import found

P = pytest.param

RUNS = [
    P(
        "Tel 07700 900123 07700 900456",
        ["07700 900123", "07700 900456"],
        id="two-uk-mobiles",
    ),
    P("416 555 0199 416 555 0123", ["416 555 0199", "416 555 0123"], id="two-us-numbers"),
    P("call +44 20 7946 0958 24/7", ["+44 20 7946 0958"], id="followed-by-24-7"),
    P("+44 20 7946 0958 5pm", ["+44 20 7946 0958"], id="followed-by-5pm"),
    P("office 020 7946 0958 2 lines", ["020 7946 0958"], id="followed-by-a-count"),
    P("mobile 07911 123456 9am-5pm", ["07911 123456"], id="followed-by-hours"),
    P(
        "06 12 34 56 78 06 98 76 54 32",
        ["06 12 34 56 78", "06 98 76 54 32"],
        id="two-french-numbers",
    ),
    P("+91 98765 43210 10 am to 6 pm", ["+91 98765 43210"], id="india-then-hours"),
    P(
        "+1 416 555 0199 +1 416 555 0123",
        ["+1 416 555 0199", "+1 416 555 0123"],
        id="two-international",
    ),
]
NOT_RUNS = [
    P("Order 416 555 0199 416 555 0123", id="after-order"),
    P("Order 07700 900123 07700 900456", id="after-order-uk"),
    P("ids 4165550199 4165550123", id="bare-digits"),
    P("1000 2000 3000 5000", id="round-numbers"),
    P("sizes 3000 4000 5000 6000", id="short-local-number-shape"),
    P("Scores 1200 3400 5600 7800", id="scores"),
    P("years 2019 2020 2021 2022 2023", id="years"),
    P("Invoice 2024 0517 0042 0015", id="invoice"),
    P("2024 05 06 10 30", id="date-and-time"),
    P("ISBN 978 0 306 40615 7", id="isbn"),
    P("tracking number 9400 1000 0000 0000 0000 00", id="tracking"),
    P("Temperatures 12 14 15 13 12 11 10", id="small-numbers"),
    P("release 10.4.2 2024 05 17", id="version-and-date"),
    P("open 24/7", id="24-7-alone"),
    P("see you at 5pm", id="5pm-alone"),
]


@pytest.mark.parametrize(("text", "expected"), RUNS)
def test_phone_numbers_in_a_run_are_found(
    pattern_scanner: PiiScanner, text: str, expected: list[str]
) -> None:
    phones = [value for entity, value in found(pattern_scanner, text) if entity == "PHONE_NUMBER"]
    assert sorted(phones) == sorted(expected)


@pytest.mark.parametrize("text", NOT_RUNS)
def test_phone_run_near_misses(pattern_scanner: PiiScanner, text: str) -> None:
    assert [e for e, _ in found(pattern_scanner, text) if e == "PHONE_NUMBER"] == []


def test_a_run_that_is_one_number_is_left_to_the_phone_recognizer() -> None:
    from guard.detect._recognizers import PhoneRunRecognizer

    assert PhoneRunRecognizer().analyze("+44 20 7946 0958", ["PHONE_NUMBER"]) == []


def test_split_numbers_carry_their_form() -> None:
    from guard.detect._recognizers import PhoneRunRecognizer

    results = PhoneRunRecognizer().analyze("+44 20 7946 0958 5pm", ["PHONE_NUMBER"])
    assert [(r.start, r.end, r.score) for r in results] == [(0, 16, 0.7)]
    explanation = results[0].analysis_explanation
    assert explanation is not None and "international" in (explanation.pattern_name or "")
