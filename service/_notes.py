"""Reviewers' notes lose their personal data before they become audit records.

A note is free text ("customer Maria at maria@example.com asked for a refund"), and the
audit log is append-only: what goes in stays. Notes are scanned with the same PII engine
as actions, for identifying entities (not dates, places or organisations, which a review
note needs), and findings are replaced by `<TYPE>`. A note that cannot be scanned is not
stored at all.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger("guard.service")

NOTE_ENTITIES = [
    "PERSON",
    "EMAIL_ADDRESS",
    "OBFUSCATED_EMAIL",
    "PHONE_NUMBER",
    "OBFUSCATED_PHONE",
    "CONTACT_HANDLE",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_BANK_NUMBER",
    "US_SSN",
    "US_ITIN",
    "US_PASSPORT",
    "US_DRIVER_LICENSE",
    "UK_NHS",
    "MEDICAL_LICENSE",
    "CRYPTO",
    "IP_ADDRESS",
    "MAC_ADDRESS",
]
WITHHELD = "[note withheld: it could not be checked for personal data]"


class NoteMasker:
    """Masks PII in a note; the scanner (and its NLP model) is built on the first note."""

    def __init__(self) -> None:
        self._scanner: Any = None
        self._lock = threading.Lock()

    def __call__(self, note: str) -> str:
        if not note.strip():
            return note
        try:
            scanner = self._get()
            data = {"note": note}
            masked = scanner.mask_for_audit(data, scanner.scan(data))[0].get("note")
        except Exception as exc:  # a note that cannot be scanned is not stored raw
            log.warning("a review note could not be scanned for PII (%s)", type(exc).__name__)
            return WITHHELD
        return masked if isinstance(masked, str) else WITHHELD

    def _get(self) -> Any:
        with self._lock:
            if self._scanner is None:
                from guard.detect import PiiScanner, PiiSettings

                settings = PiiSettings(entities=NOTE_ENTITIES, fields=["note"])
                self._scanner = PiiScanner(settings)
            return self._scanner


mask_note = NoteMasker()
