"""A key ending in a newline is quoted in a concrete path, so the path reads back."""

from __future__ import annotations

import pytest

from guard.detect._paths import JSON, format_concrete, parse_concrete


@pytest.mark.parametrize("key", ["0\n", "name\n", "a\nb"])
def test_a_key_with_a_newline_round_trips(key: str) -> None:
    path = ("params", key, JSON)
    text = format_concrete(path)
    assert "\n" not in text.replace("\\n", "")
    assert parse_concrete(text) == path
