from __future__ import annotations

from pathlib import Path

import pytest

from guard.policy import load, run_tests

POLICIES = Path(__file__).resolve().parents[1] / "policies"


@pytest.mark.parametrize(
    "pack", sorted(p.stem for p in POLICIES.glob("*.yaml") if ".test" not in p.name)
)
def test_shipped_pack_cases_pass_and_fire_every_rule(pack: str) -> None:
    [report] = run_tests(POLICIES / f"{pack}.yaml")
    failures = [f"{r.note}: {r.detail}" for r in report.results if not r.passed]
    assert not failures
    assert len(report.results) >= 10
    assert report.unfired == []


def test_shipped_packs_have_near_miss_cases() -> None:
    for pack in load(POLICIES):
        text = (POLICIES / f"{pack.name}.test.yaml").read_text()
        assert "near miss" in text, pack.name


def test_a_boolean_amount_fails_closed_in_the_shipped_pack() -> None:
    from guard import Guard

    guard = Guard.from_policy("marketplace-agent")
    action = {"kind": "release_payment", "actor": "u1", "params": {"amount": True}}
    decision = guard.check(action, {"has_contract": True})
    assert decision.verdict == "deny"
    assert any("cannot compare boolean" in (h.error or "") for h in decision.hits)
