"""URL: Presidio's URL recognizer, whose host must end where its word ends.

Presidio's patterns end a host at any known top-level domain, with nothing after it
required to end the word: `Peter.Miller` was the URL `Peter.Mil` (`.mil`),
`maria.schmidt@gmail.com` held the URL `maria.sc`, `skype: jo.smith` the URL `jo.sm`.
Here the top-level domain must be followed by no letter, digit, `_` or `-`.
"""

from __future__ import annotations

from presidio_analyzer import Pattern
from presidio_analyzer.predefined_recognizers import UrlRecognizer

_PATH = "(?:/["  # what may follow the top-level domain in every one of Presidio's patterns
_WORD_ENDS = r"(?![\w\-])"


def _ended(regex: str) -> str:
    at = regex.rindex(_PATH)
    return regex[:at] + _WORD_ENDS + regex[at:]


class GuardUrlRecognizer(UrlRecognizer):
    """Presidio's UrlRecognizer with each host ending at a word's end."""

    PATTERNS = [Pattern(p.name, _ended(p.regex), p.score) for p in UrlRecognizer.PATTERNS]
