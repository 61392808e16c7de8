"""OBFUSCATED_EMAIL: e-mail addresses written to slip past an e-mail pattern.

Caught: `jo at example dot com`, `jo [at] example [dot] com`, `jo(at)example(dot)com`,
`jo @ example . com`, `jo@example dot com`, `j o @ e x a m p l e . c o m`,
`jo＠example．com`, `jo@example.c0m` (a zero for an o), zero-width characters inside an
address, `jo.smith at gmail`, letters beyond ASCII (`jöhn at münchen dot de`),
`jo at gmail period com`, `jo-at-gmail-dot-com`, `jo@@gmail.com`, and
`_` or `-` spelled in the local part (`tom underscore h at yahoo dot com`).
A plain `jo@example.com` is left to EMAIL_ADDRESS. The domain must end in a known
public suffix (checked offline), so `see you at the meeting dot point` is not an address.
"""

from __future__ import annotations

import functools
from typing import Any

import regex

from guard.detect._normalize import UNSPACED_SCRIPTS, normalize
from guard.detect._recognizers._base import GuardRecognizer, is_registrable, stop_words

_OPEN, _CLOSE = r"[\[\(\{<]", r"[\]\)\}>]"
# "@" with a space before it but not after is a mention ("skype @jo"), not an address;
# a line break before it is an address wrapped ("jo\n@gmail.com").
# `@@` is a doubled at sign (`jo.smith@@gmail.com`), written to slip past a pattern.
_AT = regex.compile(
    rf"\s*{_OPEN}\s*(?:at|@)\s*{_CLOSE}\s*|\s+at\s+|\s*@{{2,}}\s*|\s+@\s+"
    rf"|[^\S\n]*\n\s*@\s*|@\s*",
    regex.IGNORECASE,
)
# `-at-`, `_at_`, `-dot-`, `_dot_` between the words of an address (`jo-at-gmail-dot-com`)
# read as the spaced words, which have as many characters.
_JOINED_WORDS = regex.compile(r"(?<=\w)[-_](at|dot|period)[-_](?=\w)", regex.IGNORECASE)
# A spaced "." needs space on both sides: "example . com", but not "jo32. so we".
# The ideographic full stop (`jo@gmail。com`) is a dot too: it was where the address ended.
# `period` is spelled for a dot too (`jo at gmail period com`).
_DOT = rf"(?:\s*{_OPEN}\s*(?:dot|period|\.)\s*{_CLOSE}\s*|\s+(?:dot|period)\s+|\s+\.\s+|[.\u3002])"
# Inside the local part a bare "." may not be spaced: "Thanks. jo at ..." is two words.
# `_` and `-` may be spelled too: `tom underscore h at yahoo dot com`.
_JOINERS = {"underscore": "_", "dash": "-", "hyphen": "-"}
_SPELLED_JOINER = regex.compile(r"\s+(underscore|dash|hyphen)\s+", regex.IGNORECASE)
_LOCAL_DOT = (
    rf"(?:\s*{_OPEN}\s*(?:dot|period|\.)\s*{_CLOSE}\s*|\s+(?:dot|period)\s+|\.|"
    rf"{_SPELLED_JOINER.pattern})"
)
# Letters of a script written without spaces are the sentence around an address, not
# part of it (`メールjo at gmail dot comまで`). Other letters are (`jöhn at münchen dot de`,
# as `jöhn@münchen.de` is an EMAIL_ADDRESS): with ASCII letters only, such an address
# was never found.
_WORD = rf"[^\W{UNSPACED_SCRIPTS}]"
_LETTER = rf"[^\W_{UNSPACED_SCRIPTS}]"
_LOCAL_WORD = rf"(?:{_WORD}|[+\-])+"
# An apostrophe after a letter ends a contraction ("that's at apple.com"); a quote that
# opens ("note 'jo%40gmail.com'") may stand right before an address.
_LOCAL = regex.compile(
    rf"(?<!{_WORD}|[.+\-@])(?<!\w['\u2019])(?:{_LOCAL_WORD}(?:{_LOCAL_DOT}{_LOCAL_WORD}){{0,8}})\Z",
    regex.IGNORECASE,
)
_LABEL = rf"{_LETTER}(?:(?:{_LETTER}|-){{0,61}}{_LETTER})?"
_DOMAIN = regex.compile(
    rf"(?P<first>{_LABEL})(?P<rest>(?:{_DOT}{_LABEL}){{0,6}})(?!{_WORD}|[\-@])", regex.IGNORECASE
)
_DOT_SPLIT = regex.compile(_DOT, regex.IGNORECASE)
_BRACKETED = regex.compile(rf"{_OPEN}|{_CLOSE}")
_SPELLED = regex.compile(r"\b(?:at|dot|period)\b", regex.IGNORECASE)
_WORD_RUN = regex.compile(r"\w+")
_PLAIN_EMAIL = regex.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
MAX_LOCAL = 96
PROVIDERS = frozenset(
    "gmail googlemail yahoo ymail hotmail outlook live msn icloud me aol protonmail proton "
    "gmx yandex mail zoho fastmail tutanota qq 163".split()
)
# Providers that are also everyday words or numbers: named alone they are prose ("look
# at me", "look at mail", "see page at 163"), not an address; with a suffix they count.
_WORD_PROVIDERS = frozenset("me mail live 163".split())


def _unzeroed(label: str) -> str:
    """`label` with a zero written for the letter o (`c0m`, `0rg`), when it reads as a
    word: more letters than zeros and no other digit (`1`, `0m`, `5x` stay as written)."""
    letters = sum(c.isalpha() for c in label)
    if "0" not in label or letters <= label.count("0") or not label.replace("0", "").isalpha():
        return label
    return label.replace("0", "o")


@functools.cache
def _labels(count: int) -> Any:
    return regex.compile(rf"{_LABEL}(?:{_DOT}{_LABEL}){{{count - 1}}}", regex.IGNORECASE)


class ObfuscatedEmailRecognizer(GuardRecognizer):
    """Finds e-mail addresses disguised with words, brackets, spacing or look-alike characters.

    Scores: brackets 0.95; `at`/`dot` spelled out, or spacing/character tricks 0.85;
    a bare provider (`jo at gmail`) or its domain (`jo at gmail.com`) 0.6;
    `jo at example.com` (only the `at` spelled) 0.4,
    which the context words below lift over a 0.5 threshold.
    """

    ENTITY = "OBFUSCATED_EMAIL"
    CONTEXT = ("email", "mail", "contact", "reach", "write", "address", "message")

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
        """Look for an address around every `at` / `@` marker."""
        norm = normalize(text, collapse_spacing=True)
        n = _JOINED_WORDS.sub(lambda m: f" {m.group(1)} ", norm.text)
        results: list[Any] = []
        taken_until = -1
        for at in _AT.finditer(n, timeout=self.timeout_s):
            if at.start() < taken_until:
                continue
            found = self._around(text, n, at.start(), at.end(), norm.span)
            if found is not None:
                results.append(found[0])
                taken_until = found[1]
        return results

    def _around(self, text: str, n: str, s: int, e: int, to_original: Any) -> Any:
        local = _LOCAL.search(n, max(0, s - MAX_LOCAL), s, timeout=self.timeout_s)
        domain = _DOMAIN.match(n, e, timeout=self.timeout_s)
        if local is None or domain is None:
            return None
        joined = _SPELLED_JOINER.sub(lambda m: _JOINERS[m.group(1).lower()], local.group(0))
        local_text = ".".join(_DOT_SPLIT.split(joined))
        labels = [domain.group("first"), *_DOT_SPLIT.split(domain.group("rest"))[1:]]
        fit = self._fit_domain(labels)
        if fit is None:
            return None
        used, address = fit
        end = self._domain_end(n, e, used)
        start, stop = to_original(local.start(), end)
        marker_text = n[s:end]
        provider = labels[0].lower() in PROVIDERS - _WORD_PROVIDERS
        # A zero for an o is a look-alike character, as `＠` for `@` is.
        domain_text = _WORD_RUN.sub(lambda m: _unzeroed(m.group(0)), n[e:end])
        folded = n[local.start() : e] + domain_text
        score, rule = self._strength(text[start:stop], folded, marker_text, used, provider)
        if score <= 0 or self._is_stop_word(local_text, n[s:e]):
            return None
        normalized = f"{local_text}@{address}".lower()
        return self.result(start, stop, score, rule, normalized), end

    @staticmethod
    def _fit_domain(labels: list[str]) -> tuple[int, str] | None:
        for used in range(len(labels), 1, -1):
            domain = ".".join(labels[:used])
            if is_registrable(domain):
                return used, domain
            folded = ".".join([labels[0], *map(_unzeroed, labels[1:used])])
            if folded != domain and is_registrable(folded):
                return used, folded
        if labels[0].lower() in PROVIDERS - _WORD_PROVIDERS:
            return 1, labels[0]
        return None

    @staticmethod
    def _domain_end(n: str, e: int, used: int) -> int:
        m = _labels(used).match(n, e)
        return m.end() if m is not None else e

    @staticmethod
    def _strength(
        raw: str, folded: str, markers: str, used: int, provider: bool
    ) -> tuple[float, str]:
        """`provider`: the domain is a mail provider's (`jo at gmail.com`), as sure as
        `jo at gmail` is; any other domain with only the `at` spelled may be prose."""
        spelled_at = (0.6, "spelled at, provider") if provider else (0.4, "spelled at")
        whole = folded
        if _BRACKETED.search(whole):
            return 0.95, "bracketed"
        spelled = {w.lower() for w in _SPELLED.findall(whole)}
        if used == 1:
            return 0.6, "bare provider"
        if spelled & {"dot", "period"}:
            return 0.85, "spelled dot"
        if "@@" in markers:
            return 0.85, "doubled at sign"
        if raw != folded or any(c.isspace() for c in whole):
            if "at" in spelled:
                return spelled_at
            return 0.85, "spaced or look-alike characters"
        if _PLAIN_EMAIL.fullmatch(raw):
            return 0.0, "plain"
        return spelled_at

    @staticmethod
    def _is_stop_word(local: str, marker: str) -> bool:
        """`find us at acme.com`: a spelled `at` after a stop word is prose, not an address."""
        return "@" not in marker and local.lower() in stop_words()
