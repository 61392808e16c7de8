"""docs/policy-language.md's `pii:` example, loaded exactly as printed, does what the page
says of it; and the `hash` operator's tokens are as the page describes them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from guard import Guard, Verdict

pytest.importorskip("presidio_analyzer")

DOC = (Path(__file__).resolve().parents[1] / "docs" / "policy-language.md").read_text(
    encoding="utf-8"
)
PII_PART = DOC.split("## PII settings", 1)[1].split("\n## ", 1)[0]
RULES = """\
rules:
  - id: contact
    when: pii.any()
    effect: redact
"""


def _example() -> str:
    found = re.search(r"```yaml\n(pii:\n.*?)```", PII_PART, re.S)
    assert found, "the PII settings example is gone"
    return found.group(1)


def _guard(tmp_path: Path, name: str, pii: str) -> Guard:
    pack = tmp_path / f"{name}.yaml"
    pack.write_text(f"name: {name}\nversion: 1\n{pii}{RULES}", encoding="utf-8")
    return Guard.from_policy(pack)


def test_the_example_loads_as_printed_and_masks_as_it_says(tmp_path: Path) -> None:
    card = "4111 1111 1111 1111"
    message = (
        f"mail jo.smith@gmail.com or support@marketplace.example, card {card}, order ORD-12345678"
    )
    action = {
        "kind": "send_message",
        "params": {
            "message": message,
            "attachments": [{"text": "write to jo.smith@gmail.com"}, {"text": "ORD-87654321"}],
        },
    }
    with _guard(tmp_path, "doc-pii", _example()) as g:
        d = g.check(action)
    assert d.verdict is Verdict.REDACT
    assert d.final_action is not None
    out = d.final_action["params"]
    # CREDIT_CARD: mask, one * per character; EMAIL_ADDRESS: replace; the allow-listed
    # address stays; the ad-hoc recognizer's ORDER_ID takes the default operator (replace)
    assert out["message"] == (
        f"mail <EMAIL_ADDRESS> or support@marketplace.example, card {'*' * len(card)}, "
        "order <ORDER_ID>"
    )
    # "params.attachments[*].text": every element
    assert [a["text"] for a in out["attachments"]] == ["write to <EMAIL_ADDRESS>", "<ORDER_ID>"]
    found = {(f.entity_type, f.field) for f in d.pii}
    assert ("ORDER_ID", "params.attachments[1].text") in found
    assert ("CREDIT_CARD", "params.message") in found
    assert action["params"]["message"] == message  # the input is never mutated


def _tokens(text: str) -> list[tuple[str, str]]:
    return re.findall(r"<([A-Z_]+)#([a-p]{16})>", text)


def test_hash_tokens_are_as_described(tmp_path: Path) -> None:
    said = " ".join(PII_PART.split())
    assert "`JO@X.COM` and `jo@x.com`" in said
    assert "`jo at gmail dot com` is `<OBFUSCATED_EMAIL#...>` where `jo@gmail.com` is" in said
    pii = (
        "pii:\n  entities: [EMAIL_ADDRESS, PHONE_NUMBER, OBFUSCATED_EMAIL]\n"
        "  fields: [params.message]\n  default_operator: hash\n"
    )
    with _guard(tmp_path, "doc-hash", pii) as g:

        def tokens(text: str) -> list[tuple[str, str]]:
            d = g.check({"kind": "m", "params": {"message": text}})
            assert d.final_action is not None
            return _tokens(d.final_action["params"]["message"])

        upper, lower = tokens("JO@X.COM and jo@x.com")
        assert upper == lower and upper[0] == "EMAIL_ADDRESS"
        spaced, joined = tokens("+44 7911 123456 and +447911123456")
        assert spaced == joined and spaced[0] == "PHONE_NUMBER"
        spelt, written = tokens("jo at gmail dot com and jo@gmail.com")
        assert (spelt[0], written[0]) == ("OBFUSCATED_EMAIL", "EMAIL_ADDRESS")
        assert spelt[1] == written[1]  # the same sixteen letters
        one, two = tokens("jo@x.com and al@x.com")
        assert one[1] != two[1]  # two values, two tokens
