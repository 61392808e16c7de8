"""docs/policy-language.md's PII part: the card, IBAN and e-mail-in-a-link examples it
gives are found as it says, in a listed field and in the audit record's other texts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from guard import Guard

pytest.importorskip("presidio_analyzer")

DOC = (Path(__file__).resolve().parents[1] / "docs" / "policy-language.md").read_text(
    encoding="utf-8"
)
PII_PART = DOC.split("## PII settings", 1)[1].split("\n## ", 1)[0]
PACK = """\
name: doc-pii
version: 1
pii:
  entities: [CREDIT_CARD, IBAN_CODE, EMAIL_ADDRESS]
  fields: [params.message]
  allow_list: [help@shop.com]
rules:
  - id: pii
    when: pii.any()
    effect: redact
"""


def _bullet(start: str) -> str:
    (bullet,) = [b for b in PII_PART.split("\n- ") if b.startswith(start)]
    return bullet


def _examples(bullet: str, pattern: str) -> list[str]:
    found = [e for e in re.findall(r"`([^`]+)`", bullet) if re.search(pattern, e)]
    assert found, f"no example matching {pattern!r} in: {bullet}"
    return found


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Guard:
    pack = tmp_path_factory.mktemp("pii") / "doc-pii.yaml"
    pack.write_text(PACK, encoding="utf-8")
    return Guard.from_policy(pack)


def test_documented_cards_and_lower_case_ibans_are_found(guard: Guard) -> None:
    bullet = _bullet("Card numbers")
    cards = _examples(bullet, r"^\d{4}\D")
    ibans = _examples(bullet, r"^[a-z]{2}\d\d")
    assert any(c.startswith("2") for c in cards)  # a Mastercard 2-series number
    assert any(len(re.sub(r"\D", "", c)) == 19 for c in cards)
    for text in cards + ibans:
        message = f"pay to {text} today"
        d = guard.check({"kind": "k", "params": {"message": message}})
        assert [message[f.start : f.end] for f in d.pii] == [text]
        found = "CREDIT_CARD" if text in cards else "IBAN_CODE"
        assert d.final_action and d.final_action["params"]["message"] == f"pay to <{found}> today"


def test_an_address_in_a_link_is_found_alone_and_allow_listed(guard: Guard) -> None:
    (link,) = _examples(_bullet("An e-mail address inside a link"), r"\?.*@")
    address = link.rsplit("=", 1)[1]
    d = guard.check({"kind": "k", "params": {"message": f"track {link}"}})
    assert d.final_action is not None
    assert (
        d.final_action["params"]["message"] == f"track {link.replace(address, '<EMAIL_ADDRESS>')}"
    )
    allowed = link.replace(address, "help@shop.com")
    assert not guard.check({"kind": "k", "params": {"message": f"track {allowed}"}}).hits
