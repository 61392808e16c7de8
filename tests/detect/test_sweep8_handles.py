"""Sweep 8, contact handles: a platform name that is also an everyday word (`snap`, `ig`,
`line`) followed by `is` and a handle shaped like one (`jo_smith22`, `jo.smith99`), and a
handle after a pointing emoji (`insta 👉 jo.smith99`), are off-platform contacts."""

from __future__ import annotations

import pytest

from guard.detect import PiiScanner
from tests.detect.conftest import found

P = pytest.param

HANDLES = [
    P("my snap is jo_smith22", "jo_smith22", id="snap-is-underscore"),
    P("my ig is jo.smith99", "jo.smith99", id="ig-is-dot"),
    P("My Snap is jsmith88 btw", "jsmith88", id="snap-is-trailing-digits"),
    P("my line is jo.chan", "jo.chan", id="line-is-dot"),
    P("insta\U0001f449 jo.smith99", "jo.smith99", id="pointing-emoji"),
    P("snapchat \u27a1\ufe0f jo_s", "jo_s", id="arrow-emoji"),
    P("snap \U0001f449 jo_smith", "jo_smith", id="ambiguous-platform-emoji"),
]


@pytest.mark.parametrize(("text", "handle"), HANDLES)
def test_handles_are_found(pattern_scanner: PiiScanner, text: str, handle: str) -> None:
    assert ("CONTACT_HANDLE", handle) in found(pattern_scanner, text)


NOT_HANDLES = [
    P("the signal is weak", id="signal-weak"),
    P("the line is 1.5m long", id="line-length"),
    P("the session is v2.1 now", id="session-version"),
    P("my snap is blurry", id="snap-word"),
    P("the matrix is 3x3", id="matrix-size"),
    P("the element is h2o", id="element-formula"),
    P("my signal is 4g", id="signal-4g"),
    P("price \U0001f449 120 dollars", id="emoji-before-a-price"),
]


@pytest.mark.parametrize("text", NOT_HANDLES)
def test_handle_near_misses(pattern_scanner: PiiScanner, text: str) -> None:
    assert [f for f in found(pattern_scanner, text) if f[0] == "CONTACT_HANDLE"] == []
