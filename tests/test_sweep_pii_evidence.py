"""Evidence that reads a PII field through a parent (`params`, `action`) or a function is masked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guard import Guard

PACK = """\
name: parents
version: 1
defaults: {verdict: allow, on_error: deny}
pii:
  fields: [params.message]
  entities: [EMAIL_ADDRESS, PHONE_NUMBER]
rules:
  - id: parents
    when: >
      params != {} and action != {} and pii.any("EMAIL_ADDRESS")
      and get(params.message, "") != "" and action.params != {}
    effect: deny
    message: "sent {params} as {action}"
"""

ACTION = {"kind": "k", "params": {"message": "mail jo@example.com now", "n": 1}}


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Guard:
    path: Path = tmp_path_factory.mktemp("pack") / "parents.yaml"
    path.write_text(PACK, encoding="utf-8")
    return Guard.from_policy(str(path))


def test_parent_keys_show_the_masked_copy(guard: Guard) -> None:
    decision = guard.check(ACTION)
    (hit,) = decision.hits
    assert "jo@example.com" not in json.dumps(decision.model_dump(mode="json")["hits"])
    assert hit.evidence["params"] == {"message": "mail <EMAIL_ADDRESS> now", "n": 1}
    assert hit.evidence["action"]["params"]["message"] == "mail <EMAIL_ADDRESS> now"
    assert hit.evidence["action.params"]["message"] == "mail <EMAIL_ADDRESS> now"
    assert hit.evidence['get(params.message, "")'] == "<masked>"
    assert ACTION["params"]["message"] == "mail jo@example.com now"  # the caller's copy


def test_values_without_pii_are_kept(guard: Guard) -> None:
    decision = guard.check({"kind": "k", "params": {"message": "mail jo@example.com", "n": 2}})
    assert decision.hits[0].evidence['pii.any("EMAIL_ADDRESS")'] is True
