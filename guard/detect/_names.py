"""PERSON spans that name no person: a contact channel's name or a cue word.

spaCy's small English model reads the word before a number or a handle as a name:
`venmo @jo-12`, `iban: IE29 ...`, `Zelle me at 415-555-0132`, `mastodon @jo@...`,
and words of other languages (`Appelez-moi au 06 ...`, `Mein Handy: 0172 ...`). So
the redacted message read `or <PERSON> to skip the fee` where a handle was, and lost
words that are no personal data. A PERSON span is dropped when its words, less what
another finding of the text covers, are all such words (or none are left).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from guard.detect._protocol import Span

# Words that name where or how to reach someone, or say "my" / "me" around that, in
# the languages of the default phone regions; none that is also a given name or a
# surname people go by (Al, Ma, Ring, Call are left to the model).
_CUES = """
iban bic swift ssn konto kontonummer cuenta compte
email e-mail mail phone tel telefon telephone telefone teléfono téléphone telefono
handy mobil mobile cellphone celular portable móvil movil cellulare numéro
nummer número numero number
appelez appelle ruf rufen anrufen dm
moi mich mir mein meine meiner mon meu minha my me
au auf sur via at on
""".split()


@functools.cache
def _cue_words() -> frozenset[str]:
    from guard.detect._recognizers.contact_handle import PLATFORMS

    words = {w.casefold() for w in _CUES}
    for platform in PLATFORMS:
        words.update(platform.casefold().split())
        words.add(platform.casefold().replace(" ", ""))
    return frozenset(words)


_WORDS = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def names_no_one(text: str, span: Span, others: Sequence[Span]) -> bool:
    """True when the PERSON `span` of `text` is only cue words and other findings."""
    chars = list(text[span.start : span.end])
    for other in others:
        lo, hi = max(other.start, span.start), min(other.end, span.end)
        if lo < hi:
            chars[lo - span.start : hi - span.start] = " " * (hi - lo)
    words = [w.casefold() for w in _WORDS.findall("".join(chars))]
    cues = _cue_words()
    return all(w in cues or all(part in cues for part in w.split("-")) for w in words)
