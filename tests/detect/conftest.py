"""Shared scanners: engines are built once per module (building per test is the slow part)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from guard import Guard
from guard.detect import PiiScanner, PiiSettings

PATTERN_ENTITIES = [
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "US_SSN",
    "IBAN_CODE",
    "IP_ADDRESS",
    "OBFUSCATED_EMAIL",
    "OBFUSCATED_PHONE",
    "CONTACT_HANDLE",
]
KEY = b"test-key"

Make = Callable[..., PiiScanner]


def make_scanner(entities: list[str] | None = None, **settings: Any) -> PiiScanner:
    """A scanner over `params.message` (and whatever `fields` says) with a fixed hash key."""
    settings.setdefault("fields", ["params.message"])
    return PiiScanner(PiiSettings(entities=entities or PATTERN_ENTITIES, **settings), hash_key=KEY)


@pytest.fixture(scope="module")
def pattern_scanner() -> PiiScanner:
    return make_scanner(
        fields=["params.message", "params.subject", "params.attachments[*].text", "params.args"],
        allow_list=["support@marketplace.example"],
    )


@pytest.fixture(scope="module")
def ner_scanner() -> PiiScanner:
    return make_scanner(["PERSON", "LOCATION", "EMAIL_ADDRESS", "PHONE_NUMBER"])


def message(text: Any) -> dict[str, Any]:
    return {"kind": "send_message", "actor": "u1", "params": {"message": text}}


def found(scanner: PiiScanner, text: str) -> list[tuple[str, str]]:
    """(entity type, matched text) of every finding in a one-message action."""
    scan = scanner.scan(message(text))
    assert not scan.report.field_errors, scan.report.field_errors
    return [(f.entity_type, text[f.start : f.end]) for f in scan.findings]


# -- messages through the shipped marketplace pack -----------------------------------------

_actors = itertools.count()  # a new actor per message: the pack's rate limits stay out of it


@pytest.fixture(scope="module")
def pack() -> Guard:
    return Guard.from_policy("marketplace-agent")


def send(guard: Guard, text: str) -> tuple[str, list[str], object]:
    """`text` sent before a contract: the verdict, the PII types found, the final action."""
    action = {
        "kind": "send_message",
        "actor": f"seller{next(_actors)}",
        "params": {"to": "c1", "message": text},
    }
    d = guard.check(action, {"has_contract": False, "role": "agent"})
    return d.verdict.value, [f.entity_type for f in d.pii], d.final_action
