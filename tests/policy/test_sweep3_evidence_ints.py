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


def test_an_object_keyed_by_input_values_is_recorded(tmp_path: Path) -> None:
    pack = tmp_path / "keys.yaml"
    pack.write_text(
        "name: keyed\nversion: 1\nrules:\n  - id: r\n"
        '    when: "get(params.missing, {params.k: 1}) != {}"\n    effect: escalate\n',
        encoding="utf-8",
    )
    guard = Guard.from_policy(str(pack), audit=f"sqlite:///{tmp_path / 'audit.db'}")
    try:
        for k, text in ((5, "5"), (None, "null"), (True, "true"), ("s", "s")):
            decision = guard.check({"kind": "k", "params": {"k": k}})  # TypeError before
            [hit] = decision.hits
            assert hit.evidence["get(params.missing, {params.k: 1})"] == {text: 1}
    finally:
        guard.close()
