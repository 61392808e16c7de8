"""Which entity types the guard can detect, and what each one needs (no heavy imports here)."""

from __future__ import annotations

import re
from collections.abc import Callable

# Pattern entities: (module, class) of the recognizer; "guard" means guard.detect._recognizers.
PATTERN_RECOGNIZERS: dict[str, tuple[str, str]] = {
    "CONTACT_HANDLE": ("guard", "ContactHandleRecognizer"),
    "CREDIT_CARD": ("guard", "GuardCardRecognizer"),
    "CRYPTO": ("presidio", "CryptoRecognizer"),
    "EMAIL_ADDRESS": ("guard", "OfflineEmailRecognizer"),
    "IBAN_CODE": ("guard", "GuardIbanRecognizer"),
    "IP_ADDRESS": ("presidio", "IpRecognizer"),
    "MAC_ADDRESS": ("presidio", "MacAddressRecognizer"),
    "MEDICAL_LICENSE": ("presidio", "MedicalLicenseRecognizer"),
    "OBFUSCATED_EMAIL": ("guard", "ObfuscatedEmailRecognizer"),
    "OBFUSCATED_PHONE": ("guard", "ObfuscatedPhoneRecognizer"),
    "PHONE_NUMBER": ("guard", "GuardPhoneRecognizer"),
    "UK_NHS": ("presidio", "NhsRecognizer"),
    "URL": ("guard", "GuardUrlRecognizer"),
    "US_BANK_NUMBER": ("presidio", "UsBankRecognizer"),
    "US_DRIVER_LICENSE": ("presidio", "UsLicenseRecognizer"),
    "US_ITIN": ("presidio", "UsItinRecognizer"),
    "US_PASSPORT": ("presidio", "UsPassportRecognizer"),
    "US_SSN": ("guard", "GuardSsnRecognizer"),
}

# What an audit record never holds, whatever the pack lists: texts outside the pack's fields
# and the listed fields themselves lose what these pattern recognizers find (a pack that
# names EMAIL_ADDRESS only must not store an IBAN or a card number as sent).
RECORD_ENTITIES = frozenset(
    {
        "CONTACT_HANDLE", "CREDIT_CARD", "EMAIL_ADDRESS", "IBAN_CODE", "OBFUSCATED_EMAIL",
        "OBFUSCATED_PHONE", "PHONE_NUMBER", "US_SSN",
    }
)  # fmt: skip

# More recognizers of the guard's own for an entity, run beside the one above (one
# recognizer per file; Presidio's PhoneRecognizer only ever raises scores here).
MORE_RECOGNIZERS: dict[str, tuple[str, ...]] = {"PHONE_NUMBER": ("PhoneRunRecognizer",)}

# Recognizers of numbers and codes read the text with its digits, spaces and dashes folded
# to ASCII and invisible characters dropped (`_normalize.fold_digits`); their findings
# are mapped back to the original text. The guard's obfuscation recognizers undo
# disguises themselves; e-mail and URL patterns are left as Presidio wrote them (a
# disguised address is OBFUSCATED_EMAIL's).
FOLDED_ENTITIES = frozenset(
    {
        "CREDIT_CARD", "CRYPTO", "IBAN_CODE", "IP_ADDRESS", "MAC_ADDRESS", "MEDICAL_LICENSE",
        "PHONE_NUMBER", "UK_NHS", "US_BANK_NUMBER", "US_DRIVER_LICENSE", "US_ITIN",
        "US_PASSPORT", "US_SSN",
    }
)  # fmt: skip

# An SSN written right after its name (`SSN: 097630465`, `social security number is
# 097-63-0465`) is an SSN, not the phone number its digits may also spell (and that the
# word "number" lifts): a result of the pattern below drops the results of the other
# types that it covers.
SSN_AFTER_ITS_NAME = "SSN after its name"
OUTRANKS: dict[tuple[str, str | None], frozenset[str]] = {
    ("US_SSN", SSN_AFTER_ITS_NAME): frozenset({"PHONE_NUMBER", "OBFUSCATED_PHONE"}),
}

# Number types whose spans on one value become one span of one type (see `_labels`): the
# type whose cue word stands nearest the value. Cues are read from a word's start, in any case.
_CUES: dict[str, str] = {
    "CREDIT_CARD": r"\b(?:card|credit|visa|master\s*card|amex|american\s+express|cvv|cc\b)",
    "DATE_TIME": r"\b(?:born|birth|dob\b|dated?\b|birthday)",
    "MEDICAL_LICENSE": r"\b(?:dea\b|medical\s+licen[cs]e)",
    "PHONE_NUMBER": (
        r"\b(?:phone|telephone|tel\b|mobile|mob\b|cell|call|text|sms|whats\s*app|fax|ring"
        r"|dial|reach\s+me)"
    ),
    "UK_NHS": r"\b(?:nhs\b|national\s+health|health\s+(?:service|authority|number|no\b|num))",
    "US_BANK_NUMBER": r"\b(?:bank|account|acct|a/c\b|checking|savings|routing)",
    "US_DRIVER_LICENSE": r"\b(?:driver|driving|licen[cs]e|dl\b|lic\b|permit)",
    "US_ITIN": r"\b(?:itin|taxpayer|tax\s*(?:id|payer|number|no\b)|tin\b)",
    "US_PASSPORT": r"\bpassport",
    "US_SSN": r"\b(?:ssn|social\s+security|ss\#)",
}
LABEL_CUES: dict[str, re.Pattern[str]] = {
    entity: re.compile(cue, re.IGNORECASE) for entity, cue in _CUES.items()
}
# Where a sentence ends: a cue in another sentence names no value of this one. A word
# with a digit after the stop is no new sentence (`passport no. A12345678`).
SENTENCE_END = re.compile(r"[.!?]+\s+(?=[A-Z](?!\w*\d))|\n\s*\n")
# Types whose bare pattern is weak (a run of digits scores 0.01 to 0.1), so that even
# Presidio's context lift leaves it under the pack's threshold: when the word that lifts
# it comes with its cue above in its sentence, the value is named and scores at least
# `_context.NAMED_SCORE` (`my passport number is 912345678`).
NAMED_BY_CUE = frozenset({"US_BANK_NUMBER", "US_DRIVER_LICENSE", "US_ITIN", "US_PASSPORT"})
# With no cue near the value, the type that scores highest names it, save for these: a
# type here names it over the types it lists. Ten digits that pass the NHS checksum are
# still a phone number (one ten-digit number in eleven passes it), a number of an ITIN's
# form is no SSN (SSNs never start with 9), and a card's number passes the Luhn check
# and has a card's length.
DEFAULT_OVER: dict[str, frozenset[str]] = {
    "PHONE_NUMBER": frozenset({"UK_NHS", "US_BANK_NUMBER", "US_DRIVER_LICENSE", "US_PASSPORT"}),
    "US_ITIN": frozenset({"US_SSN"}),
    "CREDIT_CARD": frozenset({"PHONE_NUMBER", "UK_NHS", "US_BANK_NUMBER", "US_DRIVER_LICENSE"}),
}

# NER entities come from the spaCy model, mapped as in Presidio's default configuration.
NER_LABELS: dict[str, str] = {
    "PER": "PERSON",
    "PERSON": "PERSON",
    "NORP": "NRP",
    "FAC": "LOCATION",
    "LOC": "LOCATION",
    "GPE": "LOCATION",
    "LOCATION": "LOCATION",
    "ORG": "ORGANIZATION",
    "ORGANIZATION": "ORGANIZATION",
    "DATE": "DATE_TIME",
    "TIME": "DATE_TIME",
}
NER_ENTITIES = frozenset(NER_LABELS.values())
BUILTIN_ENTITIES = frozenset(PATTERN_RECOGNIZERS) | NER_ENTITIES

# A finding inside a reported finding of a type listed here is a part of that value, not
# a value of its own, and is not reported: the model reading a name in a link
# (`https://github.com/MariaGarcia`) or an IBAN, Presidio's URL pattern reading
# `John.Do` or `gmail.com` in an address, the plain pattern reading `smith@gmail.com`
# in `jo\u200b.smith@gmail.com`. Redacting the outer value covers it. An NER entity is
# a part of any pattern entity's value; pattern entities only of those listed (a phone
# number in a link is still a phone number).
PART_OF: dict[str, frozenset[str]] = {
    "URL": frozenset({"EMAIL_ADDRESS", "OBFUSCATED_EMAIL"}),
    "EMAIL_ADDRESS": frozenset({"OBFUSCATED_EMAIL"}),
}


def is_part_of(inner: str, outer: str) -> bool:
    """True when a finding of type `inner` inside one of type `outer` is part of it."""
    if inner in NER_ENTITIES:
        return outer not in NER_ENTITIES
    return outer in PART_OF.get(inner, ())


_DIGIT = re.compile(r"\d")
_DIGIT_OR_COLON = re.compile(r"[\d:]")


def _has_digit(text: str) -> bool:
    return _DIGIT.search(text) is not None


# Pre-filters: a cheap test that must pass for the recognizer to find anything at all.
# Each holds because every pattern of that recognizer needs the character (tests check it).
PREFILTERS: dict[str, Callable[[str], bool]] = {
    "EMAIL_ADDRESS": lambda text: "@" in text,
    "CREDIT_CARD": _has_digit,
    "IBAN_CODE": _has_digit,
    "IP_ADDRESS": lambda text: _DIGIT_OR_COLON.search(text) is not None,
    "MEDICAL_LICENSE": _has_digit,
    "UK_NHS": _has_digit,
    "URL": lambda text: "." in text,
    "US_BANK_NUMBER": _has_digit,
    "US_ITIN": _has_digit,
    "US_PASSPORT": _has_digit,
    "US_SSN": _has_digit,
}


def count_digits(text: str) -> int:
    """How many decimal digits (any script) a text holds."""
    return sum(1 for _ in _DIGIT.finditer(text))
