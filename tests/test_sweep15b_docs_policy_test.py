"""docs/policy-language.md's test files: `guard policy test` reports the rules no case
fired, and a hit through `on_error` is not counted as firing one, as the page says."""

from __future__ import annotations

from pathlib import Path

from guard.policy._testing import run

DOC = " ".join(
    (Path(__file__).resolve().parents[1] / "docs" / "policy-language.md")
    .read_text(encoding="utf-8")
    .split()
)
PACK = """\
name: cover
version: 1
rules:
  - id: big
    when: params.amount > 500
    effect: escalate
  - id: other
    when: params.amount == -1
"""
CASES = """\
cases:
  - note: a string amount fails closed
    action: {kind: pay, params: {amount: "700"}}
    expect: {verdict: deny, rules: [big], error: true}
  - note: a negative amount
    action: {kind: pay, params: {amount: -1}}
    expect: {verdict: deny, rules: [other]}
"""


def test_an_error_hit_does_not_count_as_firing_the_rule(tmp_path: Path) -> None:
    assert "a hit through `on_error` does not count" in DOC
    (tmp_path / "cover.yaml").write_text(PACK, encoding="utf-8")
    (tmp_path / "cover.test.yaml").write_text(CASES, encoding="utf-8")
    (report,) = run(tmp_path)
    assert report.passed  # the case naming `big` among its rules passes...
    assert report.unfired == ["big"]  # ...yet `big` is reported as never fired
    more = CASES + "  - note: seven hundred\n    action: {kind: pay, params: {amount: 700}}\n"
    more += "    expect: {verdict: escalate, rules: [big]}\n"
    (tmp_path / "cover.test.yaml").write_text(more, encoding="utf-8")
    (report,) = run(tmp_path)
    assert report.passed and report.unfired == []
