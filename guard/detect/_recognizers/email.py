"""EMAIL_ADDRESS: Presidio's e-mail recognizer, with its TLD check kept offline and its
local part cut where a URL's path or query ends.

Presidio's local part takes every character an address may hold, `/`, `?`, `=`, `&` and
`#` too, so in `https://shop.com/track?email=jo@gmail.com` the address it found was
`shop.com/track?email=jo@gmail.com`: the finding was not the address (an allow-listed
one in a link was reported; hashing gave each link its own value). Addresses with those
characters are legal but unheard of; here the local part stops at them.
"""

from __future__ import annotations

from presidio_analyzer import Pattern
from presidio_analyzer.predefined_recognizers import EmailRecognizer

from guard.detect._recognizers._base import is_registrable

_CHAR = r"[!$%'*+\-^_`{|}~\w]"
EMAIL = (
    rf"\b(({_CHAR}|{_CHAR}[!$%'*+\-^_`{{|}}~\.\w]{{0,}}{_CHAR})"
    r"[@]\w+(?:-+\w+)*(?:\.\w+(?:-+\w+)*)+)\b"
)


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's EmailRecognizer whose domain check uses the bundled public-suffix list.

    The stock recognizer validates with `tldextract.extract`, which downloads the list on
    first use (a failed connection and a logged traceback per process when offline).
    """

    PATTERNS = [Pattern("Email (Medium)", EMAIL, 0.5)]

    def validate_result(self, pattern_text: str) -> bool:
        """True when the text after `@` ends in a known public suffix."""
        domain = pattern_text.rpartition("@")[2]
        return is_registrable(domain)
