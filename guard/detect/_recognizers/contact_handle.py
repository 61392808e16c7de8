"""CONTACT_HANDLE: a user name on another messaging platform, the usual way off-platform.

Caught: `skype: jo.smith`, `telegram @jo_smith`, `my whatsapp is jo_smith`,
`IG: @jo.smith`, `discord jo#1234`, `skype live:jo.smith`, `on telegram, jo_smith`, a mail
provider's name used the same way (`my gmail is jsmith88`, `gmail: jsmith`), and profile
links such as `t.me/jo_smith`, `t.me/+AbC12`, `wa.me/14165550199` or
`line.me/ti/p/~jo_smith`. Payment apps are the same way off the platform: `venmo
@jo-smith-12`, `my venmo is jdoe_22`, a cashtag `cashapp $JoSmith88`, and links such
as `paypal.me/jo88`, `cash.app/$JoSmith88`, `venmo.com/u/jo` or `revolut.me/jo88`.
Social networks too: `threads @jo.sells`, `reddit u/jo_sells`, `youtube.com/@jo`,
`bsky.app/profile/jo.bsky.social`, `@jo@mastodon.social`, `twitch.tv/jo`, and an
`@handle` written before its platform (`@jo_sells on twitter`, `@jo (insta)`).
The span is the handle (with its `@` or `$`), or the whole link.
Near misses left alone: `I use skype for calls`, `telegram is blocked`, `the signal was
weak`, `stand in line` (ambiguous platform words need a `:`, `id` or `@`), and a word
led by a digit that is no phone number: `venmo me 20`, `whatsapp 2x faster`,
`skype 3d models`, `cashapp $45`.
"""

from __future__ import annotations

from typing import Any

import regex

from guard.detect._normalize import normalize
from guard.detect._recognizers._base import GuardRecognizer, stop_words

PLATFORMS = (
    "skype", "telegram", "whatsapp", "whats app", "wechat", "weixin", "snapchat", "instagram",
    "insta", "discord", "viber", "facebook", "messenger", "twitter", "tiktok", "linkedin",
    "threema", "imessage", "facetime", "kik", "signal", "line", "session", "element",
    "matrix", "snap", "tg", "wa", "ig", "fb", "sc",
    # Mail providers: `my gmail is jsmith88` gives the address away as well as `@`.
    "gmail", "googlemail", "hotmail", "yahoo", "ymail", "outlook", "icloud", "protonmail",
    "proton", "gmx", "yandex", "aol",
    # Payment apps: paying off the platform starts with the other side's handle there.
    "paypal", "venmo", "cashapp", "cash app", "cashtag", "zelle", "revolut",
    # Social networks a buyer is sent to just as well (sweep 15).
    "threads", "reddit", "youtube", "bluesky", "bsky", "mastodon", "twitch", "pinterest",
)  # fmt: skip
# Cash App's handles are cashtags: `$` then a name with a letter in it (`$45` is money).
CASHTAG_PLATFORMS = frozenset({"cashapp", "cash app", "cashtag"})
# Platform names that are also everyday words need an explicit marker or an "@".
AMBIGUOUS = frozenset({"signal", "line", "session", "element", "matrix", "snap", "kik"}) | {
    "tg", "wa", "ig", "fb", "sc", "outlook", "proton", "threads",
}  # fmt: skip
# Arrows point at the handle: `->`, `→`, `➡️` (its variation selector is dropped by
# `normalize`) and the pointing hand `👉`.
_ARROWS = "\u2192\u27a1\U0001f449"
_STRONG = frozenset({":", "=", "->", *_ARROWS, "id", "handle", "username", "user name"})
_MARKER = rf"(?:[:=,]|->|[{_ARROWS}]|[-\u2013\u2014]|\bid\b|\bhandle\b|\buser\s?name\b|\bis\b|\bme\b|\bat\b|\bon\b|\bvia\b|\bmy\b)"  # noqa: E501
_PLATFORM = "|".join(regex.escape(p).replace("\\ ", r"\s?") for p in PLATFORMS)
# After a handle, only names that are no everyday word: `@jo on signal` may be prose.
_PLATFORM_NAMES = (
    "|".join(regex.escape(p).replace("\\ ", r"\s?") for p in PLATFORMS if p not in AMBIGUOUS) + "|x"
)
_HANDLE = regex.compile(
    rf"\b(?P<platform>{_PLATFORM})\b(?P<mid>(?:\s*{_MARKER}){{0,4}})\s*"
    # a number, its groups apart by at most one space, not a time span (`24/7`, `9:30`)
    r"(?P<handle>\+?\(?\d(?:[\d().\-]|\x20(?=[\d(]))*\d(?![/:]\d)"
    r"|(?:@|\$(?=[a-z0-9]*[a-z]))?(?:live:)?[a-z0-9][a-z0-9._\-]{0,38}[a-z0-9_](?:#\d{4})?)"
    r"(?![\w@.\-]*@)(?![\w])",
    regex.IGNORECASE,
)
# A profile's path may open with `+` (a Telegram invite, `t.me/+AbC12`) or `~` (a LINE
# ID, `line.me/ti/p/~jo_smith`).
_LINK = regex.compile(
    r"\b(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me|wa\.me|m\.me|instagram\.com|"
    r"snapchat\.com/add|tiktok\.com|discord\.gg|linkedin\.com/in|facebook\.com|fb\.com|"
    r"twitter\.com|x\.com|signal\.me/#p|line\.me(?:/R)?/ti/p|lin\.ee|u\.wechat\.com|"
    r"weixin\.qq\.com/r|threema\.id|kik\.me|paypal\.me|paypal\.com/paypalme|venmo\.com/u|"
    r"cash\.app|revolut\.me|youtube\.com|threads\.net|bsky\.app/profile|"
    r"twitch\.tv|pinterest\.com|reddit\.com/u(?:ser)?)/[@+~$]?[a-z0-9._\-]{2,64}"
    # Reddit's own way to write a user, and a Mastodon or Bluesky address after its `@`.
    r"|(?<=\breddit\b[^\n]{0,30}?)(?<![\w/])/?u/[a-z0-9_\-]{3,20}\b"
    r"|(?<![\w@])@[a-z0-9_]{1,30}@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+"
    r"|(?<![\w@])@[a-z0-9\-]{1,63}\.bsky\.social\b",
    regex.IGNORECASE,
)
# An @handle followed by the platform it is on: `@jo_sells on twitter`, `@jo (insta)`.
_HANDLE_FIRST = regex.compile(
    rf"(?<![\w@.])(?P<handle>@[a-z_][a-z0-9._\-]{{0,38}}[a-z0-9_])(?![\w@])"
    rf"\s*(?:\(\s*|\b(?:on|at|via|in)\s+)(?:{_PLATFORM_NAMES})\b",
    regex.IGNORECASE,
)
# A handle led by a digit, written without `@`, is a phone number or a numeric id (a
# Discord id has up to 20 digits): seven digits or more, grouped or not (`WhatsApp
# 086-4741`, `whatsapp 0791 123 4567`); `20`, `2x`, `3d` or `2024` are counts, sizes and
# years. After a payment app, digits grouped in thousands are an amount (`paypal 1 250 000`).
_NUMBER = regex.compile(r"[+(]?\d[\d().\- ]*")
NUMBER_DIGITS = range(7, 21)
PAYMENT_APPS = frozenset({"paypal", "venmo", "zelle", "revolut"}) | CASHTAG_PLATFORMS
_THOUSANDS = regex.compile(r"\d{1,3}(?:[ .]\d{3})+")
# Unmistakably a user name: letters, then `.` or `_` and more (`jo.smith99`, `jo_s`), or
# letters then two digits or more (`jsmith88`).
_HANDLE_SHAPED = regex.compile(r"[a-z]{2,}[a-z0-9]*(?:[._][a-z0-9]|\d{2,}\Z)", regex.IGNORECASE)
GENERIC = frozenset(
    "call calls calling chat chats group groups app apps account video videos voice message "
    "messages later now today tomorrow tonight only please thanks thank instead too also "
    "number contact details link profile handle username user name id ok okay instead "
    "work works working blocked down free web desktop mobile phone business".split()
)


class ContactHandleRecognizer(GuardRecognizer):
    """Finds a platform name followed by a handle, and links to messaging profiles.

    Scores: an `@handle`, a cashtag or a link 0.85; a handle after `:`/`id`/`is` 0.85
    when it looks like a handle (has `.`, `_` or a digit), else 0.7 after `:`/`id` and
    0.4 after `is`; a handle-like word or a number right after the platform name 0.6.
    """

    ENTITY = "CONTACT_HANDLE"
    CONTEXT = ("add", "contact", "message", "reach", "find", "dm")

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
        """Match platform-then-handle phrases and profile links."""
        norm = normalize(text)
        n = norm.text
        results: list[Any] = []
        taken: list[tuple[int, int]] = []
        for m in _LINK.finditer(n, timeout=self.timeout_s):
            start, end = norm.span(m.start(), m.end())
            taken.append((m.start(), m.end()))
            results.append(self.result(start, end, 0.85, "profile link", m.group(0).lower()))
        for m in _HANDLE_FIRST.finditer(n, timeout=self.timeout_s):
            hs, he = m.span("handle")
            if any(a <= hs < b for a, b in taken):
                continue
            taken.append((hs, he))
            start, end = norm.span(hs, he)
            results.append(
                self.result(
                    start,
                    end,
                    0.85,
                    "@handle before platform",
                    m.group("handle").lower().lstrip("@"),
                )
            )
        for m in _HANDLE.finditer(n, overlapped=False, timeout=self.timeout_s):
            hs, he = m.span("handle")
            if any(a <= hs < b for a, b in taken):
                continue
            verdict = _judge(m.group("platform"), m.group("mid"), m.group("handle"))
            if verdict is not None:
                start, end = norm.span(hs, he)
                handle = m.group("handle").lower().lstrip("@$")
                results.append(self.result(start, end, verdict[0], verdict[1], handle))
        return results


def _judge(platform: str, mid: str, handle: str) -> tuple[float, str] | None:
    bare = handle.lstrip("@$").lower()
    word = bare.split("#", 1)[0]
    if word in stop_words() or word in GENERIC or _is_platform(word):
        return None
    app = regex.sub(r"\s+", " ", platform.lower())
    if app == "threads" and not handle.startswith("@"):
        return None  # "threads: polyester" describes a garment
    if handle.startswith("$"):
        return (0.85, "cashtag") if app in CASHTAG_PLATFORMS else None
    if not bare[:1].isalpha() and not handle.startswith("@"):
        digits = sum(c.isdigit() for c in bare)
        if not _NUMBER.fullmatch(bare) or digits not in NUMBER_DIGITS:
            return None
        if app in PAYMENT_APPS and _THOUSANDS.fullmatch(bare):
            return None
    markers = {x.lower() for x in regex.findall(_MARKER, mid, flags=regex.IGNORECASE)}
    strong = bool(markers & _STRONG) or bool(regex.search(r"[:=]", mid))
    shaped = bool(regex.search(r"[._\d#]", bare)) or bare.startswith("live:")
    if handle.startswith("@"):
        return 0.85, "@handle"
    if platform.lower() in AMBIGUOUS and not strong:
        # "my snap is jo_smith22", but not "the signal is weak" nor "the line is 1.5m"
        if "is" in markers and _HANDLE_SHAPED.match(bare):
            return 0.7, "handle after 'is'"
        return None
    if strong:
        return (0.85, "marked handle") if shaped else (0.7, "marked name")
    if "is" in markers:  # "my skype is jo_smith", but also "my ig is great"
        return (0.85, "marked handle") if shaped else (0.4, "word after 'is'")
    return (0.6, "handle after platform") if shaped else None


def _is_platform(word: str) -> bool:
    return word.replace(" ", "") in {p.replace(" ", "") for p in PLATFORMS}
