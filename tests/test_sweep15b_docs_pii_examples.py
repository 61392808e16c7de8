"""docs/policy-language.md's PII bullets give examples of contacts read through escapes,
spellings and disguises: each one, written exactly as the page prints it, is found and
redacted by a pack listing the types the bullet names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from guard import Guard, Verdict

pytest.importorskip("presidio_analyzer")

DOC = (Path(__file__).resolve().parents[1] / "docs" / "policy-language.md").read_text(
    encoding="utf-8"
)
PII_PART = DOC.split("## PII settings", 1)[1].split("\n## ", 1)[0]
PACK = """\
name: doc-contacts
version: 1
pii:
  entities: [EMAIL_ADDRESS, OBFUSCATED_EMAIL, OBFUSCATED_PHONE, CONTACT_HANDLE, PHONE_NUMBER,
             CREDIT_CARD, IBAN_CODE, US_SSN]
  fields: [params.message]
rules:
  - id: contact
    when: pii.any()
    effect: redact
"""
# words and fragments the bullets quote that are not contacts themselves
NOT_VALUES = {"&commat;", "at", "dot", "period", "-", "_", "+", "order", "invoice", "tracking"}


def _examples(start: str) -> list[str]:
    (bullet,) = [b for b in PII_PART.split("\n- ") if b.startswith(start)]
    found = [e for e in re.findall(r"`([^`]+)`", bullet) if e not in NOT_VALUES]
    assert found, f"no examples left in the bullet starting {start!r}"
    # the page writes a tab and a line break as \t and \n
    return [e.replace("\\t", "\t").replace("\\n", "\n") for e in found]


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guard]:
    pack = tmp_path_factory.mktemp("contacts") / "doc-contacts.yaml"
    pack.write_text(PACK, encoding="utf-8")
    with Guard.from_policy(pack) as g:
        yield g


CONTACTS = _examples("Contacts are read through escapes")
CARDS = _examples("Card numbers (Luhn-checked)")
NUMBERS = _examples("Numbers are read through disguises")


@pytest.mark.parametrize("text", CONTACTS + CARDS + NUMBERS)
def test_each_example_is_found_and_redacted(guard: Guard, text: str) -> None:
    d = guard.check({"kind": "send_message", "params": {"message": text}})
    assert d.verdict is Verdict.REDACT, text
    assert d.final_action is not None
    out = d.final_action["params"]["message"]
    assert "<" in out and out != text
    # what is left is the words around the value, never a digit of a number
    if not re.search(r"[a-z]", text.lower()):
        assert not re.search(r"\d", out), out


def test_the_bullets_examples_were_read() -> None:
    # a bullet reworded so that its examples are no longer found would skip them silently
    assert "t%2Eme/jo_sells" in CONTACTS and "4one6 5five5 0199" in CONTACTS
    assert "4 2 4 2 4 2 4 2 4 2 4 2 4 2 4 2" in CARDS
    assert "4111\t1111\t1111\t1111" in NUMBERS and len(CONTACTS) >= 20
