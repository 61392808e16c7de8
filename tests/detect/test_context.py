"""The context window: values and placeholders are one word each, and no context word."""

from __future__ import annotations

from collections.abc import Sequence

from guard.detect._context import ContextWindow, supportive_word
from guard.detect._redact import PLACEHOLDER

STOP = frozenset({"the", "me", "at"})


def _window(text: str, at: str, values: Sequence[str] = ()) -> list[str]:
    """The window of the last `at` in `text`, with `values` and placeholders as values."""
    spans = [(text.index(v), text.index(v) + len(v)) for v in values]
    spans += [m.span() for m in PLACEHOLDER.finditer(text)]
    return ContextWindow(text, STOP, spans).around(text.rindex(at))


def test_without_values_the_window_is_presidios() -> None:
    text = "phone jo@example.com jo@example.com 416-555-0199"
    assert _window(text, "416") == ["416", "com", "example", "jo", "com", "example", "416"]


def test_a_value_is_one_word_that_matches_no_context_word() -> None:
    text = "phone jo@example.com and jo@example.org 416-555-0199"
    window = _window(text, "416", ["jo@example.com", "jo@example.org"])
    assert window == ["416", "", "and", "", "phone", "416"]
    assert supportive_word(window, ["phone"]) == "phone"
    assert supportive_word(_window("jo@phone.com 416", "416", ["jo@phone.com"]), ["phone"]) is None


def test_a_value_and_its_placeholder_give_the_same_window() -> None:
    values = ["jo@example.com", "4111 1111 1111 1111", "jo.smith"]
    before = "call me at jo@example.com, x4111 1111 1111 1111y or skype: jo.smith 416-555-0199"
    after = (
        "call me at <EMAIL_ADDRESS>, x*******************y or "
        "skype: <CONTACT_HANDLE#abcdefghijklmnop> 416-555-0199"
    )
    assert _window(before, "416", values) == _window(after, "416")
    assert _window(after, "416") == ["416", "", "skype", "or", "y", "", "416"]


def test_values_that_overlap_or_touch_are_one_word() -> None:
    text = "phone abcdef ghi 416"
    assert ContextWindow(text, STOP, [(6, 9), (8, 10), (10, 12), (13, 16)]).around(17) == [
        "416",
        "",
        "",
        "phone",
        "416",
    ]
    assert _window("phone <A><B>**** 416", "416") == ["416", "", "phone", "416"]
