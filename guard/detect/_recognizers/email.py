"""EMAIL_ADDRESS: Presidio's e-mail recognizer, with its TLD check kept offline and its
local part cut where a URL's path or query ends.

Presidio's local part takes every character an address may hold, `/`, `?`, `=`, `&` and
`#` too, so in `https://shop.com/track?email=jo@gmail.com` the address it found was
`shop.com/track?email=jo@gmail.com`: the finding was not the address (an allow-listed
one in a link was reported; hashing gave each link its own value). Addresses with those
characters are legal but unheard of; here the local part stops at them. An address
next to the letters of a script written without spaces (Chinese, Japanese, Korean,
Thai) ends where they begin, and it never starts with a combining mark.
"""

from __future__ import annotations

from presidio_analyzer import Pattern
from presidio_analyzer.predefined_recognizers import EmailRecognizer

from guard.detect._normalize import UNSPACED_SCRIPTS
from guard.detect._recognizers._base import is_registrable

# In a script written without spaces, `私のメールはjo@gmail.comです` or `jo@gmail.com으로`,
# the letters around the address are the sentence, not the address (the whole run was
# one match, and its domain `gmail.comです` no known suffix: the address was missed).
# An address starts with a letter or digit, not one of those letters nor a combining
# mark (the variation selector of `✉️jo@gmail.com` is the emoji's), and its domain holds
# none of them. The rest of the local part is Presidio's: a hot pattern checks little.
_SYMBOL = r"!$%'*+\-^_`{|}~"
_WORD = rf"[^\W{UNSPACED_SCRIPTS}]"
_FIRST = rf"[^\W{UNSPACED_SCRIPTS}\p{{M}}]"
_LABEL = rf"{_WORD}+(?:-+{_WORD}+)*"
EMAIL = (
    rf"(?<!{_FIRST})(({_FIRST}|{_FIRST}[{_SYMBOL}.\w]*[{_SYMBOL}\w])"
    rf"@{_LABEL}(?:\.{_LABEL})+)(?!{_WORD})"
)

# A quoted local part (`"jo smith"@gmail.com`, `"jo"@gmail.com`) is as deliverable as a
# bare one; the bare pattern found no address there.
QUOTED_EMAIL = rf'(?<![\w"])("[^"\\\r\n@]{{1,64}}"@{_LABEL}(?:\.{_LABEL})+)(?!{_WORD})'

# A file named after an address (`jo@gmail.com.pdf`, an attachment's name): the domain
# with the extension is no known suffix, so the address before it was missed.
_EXTENSION = r"\.(?:pdf|docx?|xlsx?|pptx?|odt|ods|rtf|txt|csv|zip|rar|7z|jpe?g|png|gif|heic|webp)"
BEFORE_EXTENSION = (
    rf"(?<!{_FIRST})(({_FIRST}|{_FIRST}[{_SYMBOL}.\w]*[{_SYMBOL}\w])"
    rf"@{_LABEL}(?:\.{_LABEL})+?)(?={_EXTENSION}(?!{_WORD}))"
)


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's EmailRecognizer whose domain check uses the bundled public-suffix list.

    The stock recognizer validates with `tldextract.extract`, which downloads the list on
    first use (a failed connection and a logged traceback per process when offline).
    """

    PATTERNS = [
        Pattern("Email (Medium)", EMAIL, 0.5),
        Pattern("Email, quoted local part", QUOTED_EMAIL, 0.5),
        Pattern("Email, before a file extension", BEFORE_EXTENSION, 0.5),
    ]

    def validate_result(self, pattern_text: str) -> bool:
        """True when the text after `@` ends in a known public suffix."""
        domain = pattern_text.rpartition("@")[2]
        return is_registrable(domain)
