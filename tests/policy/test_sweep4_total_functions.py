"""total(key, amount, seconds): a sliding-window sum with exactly rate()'s semantics."""

from __future__ import annotations

from typing import Any

import pytest

from guard import Guard, Verdict
from guard._evaluate import DecisionRates
from guard._exceptions import EvaluationError
from guard.policy import MemoryRateStore, parse
from guard.policy._expr import compile_expr
from guard.policy._functions import DEFAULT_FUNCTIONS, RATE_FUNCTIONS, RATE_STORE_KEY

# `burst` uses rate() so that the loader gives the pack a store (see the last test).
PACK = """\
name: pay
version: 1
rules:
  - id: paid-in-a-day
    match: {kind: pay}
    when: total(str(actor), params.amount, 86400) > 500
    effect: escalate
  - id: no-big-pay
    match: {kind: pay}
    when: params.amount > 1000
    effect: deny
  - id: burst
    match: {kind: pay}
    when: rate(str(actor), 600) > 100
    effect: deny
"""


def pay(amount: Any, actor: str = "u1", **extra: Any) -> dict[str, Any]:
    return {"kind": "pay", "actor": actor, "params": {"amount": amount}, **extra}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_total_is_registered_as_a_rate_function() -> None:
    spec = DEFAULT_FUNCTIONS.get("total")
    assert spec is not None and spec.needs_env and (spec.min_args, spec.max_args) == (3, 3)
    assert RATE_FUNCTIONS == {"rate", "total"}


@pytest.mark.parametrize(
    ("amounts", "verdict"),
    [
        pytest.param([300, 200], Verdict.ALLOW, id="near-miss-exactly-500-in-total"),
        pytest.param([300, 200, 0.01], Verdict.ESCALATE, id="one-cent-over"),
        pytest.param([499, 2], Verdict.ESCALATE, id="two-payments-over"),
        pytest.param([250.5, 249.5], Verdict.ALLOW, id="floats-exactly-500"),
        pytest.param([0, 0, 500], Verdict.ALLOW, id="zeros-add-nothing"),
    ],
)
def test_payments_add_up_in_the_window(amounts: list[float], verdict: Verdict) -> None:
    g = Guard([parse(PACK)])
    decisions = [g.check(pay(a)) for a in amounts]
    assert [d.verdict for d in decisions[:-1]] == [Verdict.ALLOW] * (len(amounts) - 1)
    assert decisions[-1].verdict is verdict


def test_sums_are_per_actor_per_tenant_and_per_rule() -> None:
    g = Guard([parse(PACK)])
    assert g.check(pay(400, "u1")).verdict is Verdict.ALLOW
    assert g.check(pay(400, "u2")).verdict is Verdict.ALLOW  # another actor
    assert g.check(pay(400, "u1", tenant="t2")).verdict is Verdict.ALLOW  # another tenant
    assert g.check(pay(101, "u1")).verdict is Verdict.ESCALATE  # 501 for u1 without tenant
    store = MemoryRateStore()
    env = {"actor": "u1", "tenant": None, "params": {"amount": 400}, RATE_STORE_KEY: store}
    one = compile_expr("total(actor, params.amount, 60)", rule_id="one")
    two = compile_expr("total(actor, params.amount, 60)", rule_id="two")
    assert [one.evaluate(env), two.evaluate(env), one.evaluate(env)] == [400, 400, 800]
    assert compile_expr("rate(actor, 60)", rule_id="one").evaluate(env) == 1  # counts apart


def test_an_amount_is_counted_only_when_total_is_evaluated() -> None:
    pack = PACK.replace("when: total(str(actor)", "when: params.amount < 1000 and total(str(actor)")
    g = Guard([parse(pack)])
    assert g.check(pay(5000)).verdict is Verdict.DENY  # short-circuited: not summed
    assert g.check(pay(400)).verdict is Verdict.ALLOW
    assert g.check({"kind": "other", "actor": "u1", "params": {"amount": 900}}).verdict is (
        Verdict.ALLOW
    )  # `match` skipped the rule: not summed
    assert g.check(pay(100)).verdict is Verdict.ALLOW  # 500
    assert g.check(pay(1)).verdict is Verdict.ESCALATE


def test_dry_runs_only_peek_and_commit_records_once() -> None:
    g = Guard([parse(PACK)])
    assert g.evaluate(pay(400)).verdict is Verdict.ALLOW
    assert g.evaluate(pay(400)).verdict is Verdict.ALLOW  # the first was not recorded
    assert g.allowed([pay(450), pay(450)]) == [pay(450), pay(450)]
    assert g.check(pay(400)).verdict is Verdict.ALLOW
    assert g.evaluate(pay(101)).verdict is Verdict.ESCALATE  # 501, as check would say
    assert g.check(pay(100)).verdict is Verdict.ALLOW  # 500: the peek added nothing


def test_decorator_alternatives_record_only_the_action_that_ran() -> None:
    g = Guard([parse(PACK)])

    @g.agent
    def act() -> list[tuple[dict[str, Any], float]]:
        return [(pay(5000), 0.9), (pay(10), 0.1)]

    out = act()
    assert out == pay(10)
    assert g.check(pay(490)).verdict is Verdict.ALLOW  # 500: the denied 5000 was not summed
    assert g.check(pay(1)).verdict is Verdict.ESCALATE


def test_live_and_shadow_rules_add_an_amount_once() -> None:
    g = Guard([parse(PACK)], shadow=[parse(PACK.replace("version: 1", "version: 2"))])
    assert g.check(pay(300)).verdict is Verdict.ALLOW
    d = g.check(pay(200))
    assert d.verdict is Verdict.ALLOW and d.shadow is not None and d.shadow.verdict is Verdict.ALLOW
    d = g.check(pay(1))
    assert d.verdict is Verdict.ESCALATE and d.shadow is not None
    assert d.shadow.verdict is Verdict.ESCALATE


def test_one_counter_given_two_amounts_in_one_decision_is_an_error() -> None:
    pack = PACK.replace(
        "when: total(str(actor), params.amount, 86400) > 500",
        "when: total(str(actor), params.amount, 60) + total(str(actor), params.fee, 60) > 500",
    )
    g = Guard([parse(pack)])
    d = g.check({"kind": "pay", "actor": "u1", "params": {"amount": 10, "fee": 1}})
    assert d.verdict is Verdict.DENY
    [hit] = [h for h in d.hits if h.rule_id == "paid-in-a-day"]
    assert hit.error is not None and "give each amount its own key" in hit.error
    same = {"kind": "pay", "actor": "u1", "params": {"amount": 10, "fee": 10}}
    assert g.check(same).verdict is Verdict.ALLOW  # the same amount twice is one event


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        pytest.param(True, "boolean True", id="bool"),
        pytest.param(-0.5, "number -0.5", id="negative"),
        pytest.param("500", "string '500'", id="string"),
        pytest.param(None, "null", id="null"),
        pytest.param([500], "list [500]", id="list"),
    ],
)
def test_a_bad_amount_fails_closed_naming_it(amount: Any, shown: str) -> None:
    g = Guard([parse(PACK)])
    d = g.check(pay(amount))
    assert d.verdict is Verdict.DENY
    [hit] = [h for h in d.hits if h.rule_id == "paid-in-a-day"]
    assert hit.error == (f"total() needs a finite non-negative number as the amount, got {shown}")


@pytest.mark.parametrize(
    ("amount", "ok"),
    [
        pytest.param(float("nan"), False, id="nan"),
        pytest.param(float("inf"), False, id="inf"),
        pytest.param(10**400, False, id="int-too-large-for-a-float"),
        pytest.param(-0.0, True, id="negative-zero-is-zero"),
        pytest.param(0, True, id="zero"),
    ],
)
def test_non_finite_amounts_are_refused(amount: float, ok: bool) -> None:
    expr = compile_expr("total('k', params.amount, 60)", rule_id="r")
    env = {"tenant": None, "params": {"amount": amount}, RATE_STORE_KEY: MemoryRateStore()}
    if ok:
        assert expr.evaluate(env) == 0
    else:
        with pytest.raises(EvaluationError, match="finite non-negative number as the amount"):
            expr.evaluate(env)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param("total(true, 1, 60)", "a string or integer key, got boolean True", id="key"),
        pytest.param("total('k', 1, 0)", "a positive number of seconds as the window", id="w0"),
        pytest.param("total('k', 1, '60')", "as the window, got string '60'", id="wstr"),
    ],
)
def test_bad_keys_and_windows_are_errors(source: str, message: str) -> None:
    env = {"tenant": None, RATE_STORE_KEY: MemoryRateStore()}
    with pytest.raises(EvaluationError, match=message):
        compile_expr(source, rule_id="r").evaluate(env)


def test_a_store_without_sums_is_an_error_not_a_zero() -> None:
    class CountsOnly:
        def hit(self, key: str, window: float) -> int:
            return 1

    expr = compile_expr("total('k', 5, 60) > 1", rule_id="r")
    with pytest.raises(EvaluationError, match="CountsOnly cannot sum amounts"):
        expr.evaluate({"tenant": None, RATE_STORE_KEY: CountsOnly()})
    with pytest.raises(EvaluationError, match="total\\(\\) needs a rate store"):
        expr.evaluate({"tenant": None})


def test_memory_sums_expire_with_their_window() -> None:
    clock = Clock()
    store = MemoryRateStore(clock=clock)
    assert store.total("k", 100, 60) == 100
    clock.now += 30
    assert store.total("k", 50, 60) == 150
    assert store.peek_total("k", 1, 60) == 151
    clock.now += 30  # the first amount is exactly one window old: out
    assert store.total("k", 0, 60) == 50
    clock.now += 31
    assert store.total("k", 0, 60) == 0


def test_memory_sums_past_the_cap_merge_and_never_drop_early() -> None:
    clock = Clock()
    store = MemoryRateStore(max_hits_per_key=3, clock=clock)
    for step, amount in enumerate([400, 1, 1, 1, 1]):
        clock.now = 1000.0 + step
        assert store.total("k", amount, 60) == 400 + step
    # The 400 (stamped 1000) was merged into later amounts: still summed after 1060, when
    # it alone would have expired (late, erring strict), gone with the amount it joined.
    clock.now = 1061.5
    assert store.total("k", 0, 60) == 404
    clock.now = 1062.5
    assert store.total("k", 0, 60) == 2
    assert len(store) == 1


def test_memory_store_bounds_counters_of_counts_and_sums_together() -> None:
    store = MemoryRateStore(max_keys=4)
    for i in range(10):
        store.hit(f"c{i}", 60)
        store.total(f"s{i}", 1, 60)
    assert len(store) <= 4
    store.clear()
    assert len(store) == 0


def test_long_keys_are_kept_as_digests() -> None:
    store = MemoryRateStore()
    expr = compile_expr("total(params.key, 5, 60)", rule_id="r")
    env = {"tenant": "t", "params": {"key": "x" * 5000}, RATE_STORE_KEY: store}
    assert expr.evaluate(env) == 5 and expr.evaluate(env) == 10
    [(key, _)] = store._sums
    assert len(key) < 100 and "xxxx" not in key


def test_decision_rates_commit_records_the_peeked_amounts() -> None:
    store = MemoryRateStore()
    dry = DecisionRates(store, dry=True)
    assert dry.total("k", 7.0, 60.0) == 7 and dry.total("k", 7.0, 60.0) == 7
    assert store.peek_total("k", 0, 60) == 0
    dry.commit()
    assert store.peek_total("k", 0, 60) == 7
    dry.commit()  # committing again records nothing more
    assert store.peek_total("k", 0, 60) == 7


TOTAL_ONLY = """\
name: pay-total
version: 1
rules:
  - id: paid-in-a-day
    match: {kind: pay}
    when: total(str(actor), params.amount, 86400) > 500
    effect: escalate
"""


def test_a_pack_calling_only_total_is_a_rate_pack() -> None:
    pack = parse(TOTAL_ONLY)
    assert pack.uses_rate
    g = Guard([pack])
    assert g.check(pay(300)).verdict is Verdict.ALLOW
    assert g.check(pay(201)).verdict is Verdict.ESCALATE
