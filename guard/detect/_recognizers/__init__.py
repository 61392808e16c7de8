"""The guard's own Presidio recognizers, one per file. Importing this imports presidio."""

from __future__ import annotations

from guard.detect._recognizers._base import NORMALIZED_KEY, GuardRecognizer
from guard.detect._recognizers.card import GuardCardRecognizer
from guard.detect._recognizers.contact_handle import ContactHandleRecognizer
from guard.detect._recognizers.email import OfflineEmailRecognizer
from guard.detect._recognizers.iban import GuardIbanRecognizer
from guard.detect._recognizers.obfuscated_email import ObfuscatedEmailRecognizer
from guard.detect._recognizers.obfuscated_phone import ObfuscatedPhoneRecognizer
from guard.detect._recognizers.phone import GuardPhoneRecognizer, has_digit_cluster
from guard.detect._recognizers.phone_run import PhoneRunRecognizer
from guard.detect._recognizers.ssn import GuardSsnRecognizer
from guard.detect._recognizers.url import GuardUrlRecognizer

__all__ = [
    "NORMALIZED_KEY",
    "ContactHandleRecognizer",
    "GuardCardRecognizer",
    "GuardIbanRecognizer",
    "GuardPhoneRecognizer",
    "GuardRecognizer",
    "GuardSsnRecognizer",
    "GuardUrlRecognizer",
    "ObfuscatedEmailRecognizer",
    "ObfuscatedPhoneRecognizer",
    "OfflineEmailRecognizer",
    "PhoneRunRecognizer",
    "has_digit_cluster",
]
