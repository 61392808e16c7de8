"""Sweep 13b, an SSN typed with spaced hyphens (`SSN: 536 - 22 - 1987`), checked through
the shipped pack: it went out unredacted (the pack removes SSNs), as Presidio read its
spaces and hyphens as two mismatched separators.
"""

from __future__ import annotations

import pytest

from guard import Guard
from tests.detect.conftest import send

P = pytest.param


@pytest.mark.parametrize(
    "text", [P("ssn: 536 - 22 - 1987", id="colon"), P("my SSN is 536 - 22 - 1987", id="is")]
)
def test_an_ssn_with_spaced_hyphens_is_removed(pack: Guard, text: str) -> None:
    verdict, types, final = send(pack, text)
    assert (verdict, types) == ("redact", ["US_SSN"])
    assert isinstance(final, dict)
    assert "1987" not in final["params"]["message"]


@pytest.mark.parametrize(
    "text",
    [
        P("pages 536 - 22 - 1987", id="no-name-before"),
        P("ssn 666 - 22 - 1987", id="never-issued-area"),
        P("ssn 536 - 00 - 1987", id="zero-group"),
    ],
)
def test_presidios_checks_still_hold(pack: Guard, text: str) -> None:
    assert send(pack, text)[:2] == ("allow", [])
