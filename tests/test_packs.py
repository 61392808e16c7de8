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
