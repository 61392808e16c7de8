"""rate() counts each tenant apart: one tenant's traffic never trips another's counter."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from guard.policy._expr import compile_expr
from guard.policy._rate import MemoryRateStore


def _env(store: MemoryRateStore, actor: Any, tenant: Any) -> dict[str, Any]:
    return {"actor": actor, "tenant": tenant, "params": {}, "context": {}, "__rate__": store}


def test_tenants_have_their_own_counters() -> None:
    store = MemoryRateStore()
    expr = compile_expr("rate(str(actor), 60)", rule_id="msg-rate")
    assert [expr.evaluate(_env(store, "alice", "globex")) for _ in range(5)] == [1, 2, 3, 4, 5]
    assert expr.evaluate(_env(store, "alice", "acme")) == 1
    assert expr.evaluate(_env(store, "alice", None)) == 1
    assert expr.evaluate(_env(store, "alice", "globex")) == 6


_tenants = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["a", "a:b", "\x00"]))
_keys = st.one_of(
    st.text(max_size=12),
    st.integers(-5, 5),
    st.sampled_from(["b", "b:c", "\x00tenant:1:a:b", "\x00plain:x", "x" * 300]),
)


@settings(max_examples=200, deadline=None)
@given(_tenants, _keys, _tenants, _keys)
def test_different_tenant_or_key_never_share_a_counter(
    tenant1: str | None, key1: str | int, tenant2: str | None, key2: str | int
) -> None:
    if (tenant1, str(key1)) == (tenant2, str(key2)):
        return
    store = MemoryRateStore()
    expr = compile_expr("rate(params.k, 60)", rule_id="r")
    first = {**_env(store, None, tenant1), "params": {"k": key1}}
    second = {**_env(store, None, tenant2), "params": {"k": key2}}
    assert expr.evaluate(first) == 1
    assert expr.evaluate(second) == 1
