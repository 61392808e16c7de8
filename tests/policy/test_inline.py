"""Rule plans (conditions rendered as Python expressions) agree with the exact closures."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given

from guard import Guard
from guard._evaluate import run_rules
from guard.policy._expr import compile_expr
from guard.policy._inline import SLOW, _checked, build_plan
from guard.policy._loader import RuleSet, load
from tests.policy.test_expr_fuzz import FUZZ, envs, same, valid_expressions

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks" / "rules" / "bench20.yaml"


def exact(expr: Any, env: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "value", expr.fast(env)
    except Exception as exc:  # the exact path's outcome, whatever it is
        return "error", exc


@FUZZ
@given(valid_expressions, envs())
def test_plan_agrees_with_closures(source: str, env: dict[str, Any]) -> None:
    if "rate(" in source:  # counts on each evaluation: compared in the engine tests
        return
    try:
        expr = compile_expr(source, rule_id="fuzz")
    except Exception:
        return
    plan = build_plan([SimpleNamespace(when=expr)])
    assert plan is not None
    flagged = plan(env)
    outcome, value = exact(expr, env)
    if not flagged:  # the plan says False: so must the closures, without an error
        assert (outcome, value) == ("value", False), source
        return
    [(index, fast)] = flagged
    assert index == 0
    if fast is SLOW:  # the plan defers to the closures: nothing more to compare
        return
    assert outcome == "value", (source, fast, value)
    assert same(fast, value) and type(fast) is type(value), (source, fast, value)


def test_hot_shapes_render_inline() -> None:
    """Every condition of the benchmark pack renders without calling a closure."""
    (pack,) = load(BENCH)
    for rule in pack.rules:
        assert rule.when is not None and rule.when.inline is not None, rule.id
        assert "_c" not in rule.when.inline.code, (rule.id, rule.when.inline.code)
    assert all(isinstance(rules, RuleSet) and rules.plan for rules in pack.by_kind.values())


def test_unrenderable_parts_call_their_closure() -> None:
    expr = compile_expr("has(params.x) and any(v > 1 for v in params.xs) and pii.any()")
    assert expr.inline is not None and expr.inline.code.count("_c") == 3


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('id')",
        "e['x']",
        "(_c1(e))",
        "open",
        "_k1.__class__",
        "x\n import os",
        "_k1 + é",
    ],
)
def test_generated_source_check_refuses_foreign_text(source: str) -> None:
    with pytest.raises(ValueError):
        _checked(source, {"_k1": 1})


def _random_action(rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    """Actions and contexts with the benchmark's fields, often of the wrong type or absent."""
    values = [None, 0, 1, 500, 501, 10_001, -3, 2.5, "x", "ext:a", "USD", "JPY", "", True,
              [], ["vip", "fraud_review"], {"a": 1}, "hello @ whatsapp", "https://x"]  # fmt: skip
    keys = ["amount", "currency", "to", "body", "recipient_count", "tool", "command", "target",
            "order_total", "price", "category", "owner", "url", "host"]  # fmt: skip
    ctx_keys = ["home_tenant", "role", "has_contract", "verified", "account_age_days",
                "risk_score", "daily_spend", "flags"]  # fmt: skip
    kinds = ["release_payment", "send_message", "call_tool", "issue_refund", "edit_listing",
             "fetch_url", "other"]  # fmt: skip
    params = {k: rng.choice(values) for k in keys if rng.random() < 0.7}
    if rng.random() < 0.05:
        params = rng.choice([[], "x", 3])  # type: ignore[assignment]
    action = {"kind": rng.choice(kinds), "actor": rng.choice(["u7", "u8", None]),
              "tenant": rng.choice(["t1", "t2", None]), "params": params}  # fmt: skip
    context = {k: rng.choice(values + ["t1", "finance"]) for k in ctx_keys if rng.random() < 0.8}
    return action, context


SHIPPED = sorted(p.stem for p in (ROOT / "policies").glob("*.yaml") if ".test." not in p.name)


@pytest.mark.parametrize("policy", [str(BENCH), *SHIPPED])
def test_plans_decide_as_the_closures_do(policy: str) -> None:
    """Hits (ids, effects, messages, evidence, errors) with and without plans are equal."""
    guard = Guard.from_policy(policy)
    rng = random.Random(7)
    for pack in guard.packs.values():
        for _ in range(600):
            action, context = _random_action(rng)
            if isinstance(action["params"], dict) and pack.by_kind:
                action["kind"] = rng.choice([*pack.by_kind, "other"])
            env = {"action": action, "kind": action["kind"], "actor": action["actor"],
                   "tenant": action["tenant"], "params": action["params"], "context": context,
                   "pii": None}  # fmt: skip
            rules = pack.action_rules(action["kind"])
            planned = run_rules(rules, dict(env))
            plain = run_rules(tuple(rules), dict(env))
            assert [h.model_dump() for h in planned] == [h.model_dump() for h in plain], action
