"""Evidence holds only JSON-exact numbers: a computed integer beyond 2**53 must not make the
decision's audit record (and so the decision) fail."""

from __future__ import annotations

from pathlib import Path

from guard import Guard, Verdict
from guard.policy._expr import compile_expr

PACK = """\
name: big-sums
version: 1
defaults: {verdict: allow, on_error: deny}
rules:
  - id: big-total
    when: sum(params.amounts) > 1000
    effect: escalate
  - id: scaled
    when: max([abs(params.amounts[0] * 1000)]) > 5
    effect: escalate
"""


def test_a_big_computed_integer_is_recorded_as_its_digits() -> None:
    expr = compile_expr("sum(params.xs) > 5 and [params.xs[0] * 4] != []")
    value, evidence = expr.explain({"params": {"xs": [2**52, 2**52, 2**52]}})
    assert value is True
    assert evidence["sum(params.xs)"] == str(3 * 2**52)
    assert evidence["params.xs"] == [2**52, 2**52, 2**52]  # inputs are already in range


def test_the_decision_is_recorded(tmp_path: Path) -> None:
    pack = tmp_path / "big.yaml"
    pack.write_text(PACK, encoding="utf-8")
    guard = Guard.from_policy(str(pack), audit=f"sqlite:///{tmp_path / 'audit.db'}")
    try:
        amounts = [2**52, 2**52, 2**52]  # each within the exact range; their sum is not
        decision = guard.check({"kind": "pay", "params": {"amounts": amounts}})
        assert decision.verdict is Verdict.ESCALATE
        evidence = {h.rule_id: h.evidence for h in decision.hits}
        assert evidence["big-total"]["sum(params.amounts)"] == str(3 * 2**52)
        assert evidence["scaled"]["abs(params.amounts[0] * 1000)"] == str(1000 * 2**52)
    finally:
        guard.close()
