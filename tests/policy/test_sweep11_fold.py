"""contains_any()'s ASCII shortcut folds text exactly as the full Unicode path does."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from guard.policy._functions import _fold


def _full(text: str) -> str:
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return folded.replace("i\u0307", "i").replace("\u0131", "i")


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_shortcut_is_the_full_fold(text: str) -> None:
    assert _fold(text) == _full(text)


@given(st.text())
def test_any_text_is_the_full_fold(text: str) -> None:
    assert _fold(text) == _full(text)
