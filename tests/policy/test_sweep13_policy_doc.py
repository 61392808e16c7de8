"""Sweep 13: what docs/policy-language.md now says `in` does on each kind of container."""

from __future__ import annotations

import pytest

from guard import Guard, Verdict
from guard.policy import parse


def _outcome(condition: str) -> str:
    pack = parse(f"name: t\nversion: 1\nrules:\n  - id: r\n    when: '{condition}'\n")
    decision = Guard([pack]).check({"kind": "k", "params": {}})
    if decision.verdict is Verdict.ALLOW:
        return "false"
    return "error" if decision.hits[0].error else "true"


@pytest.mark.parametrize(
    ("condition", "outcome"),
    [
        ('1 in ["1"]', "false"),
        ("true in [1]", "false"),
        ('1 in {"1": 2}', "false"),
        ('"a" in {"a": 1}', "true"),
        ('"b" in "abc"', "true"),
        ('"B" in "abc"', "false"),
        ('1 in "abc"', "error"),
        ('1 not in "abc"', "error"),
        ('"a" in 5', "error"),
        ('"a" in None', "error"),
    ],
)
def test_in_does_what_the_doc_says(condition: str, outcome: str) -> None:
    assert _outcome(condition) == outcome
