"""rate() keys come from the action: a long one must not be kept whole in the store."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from guard.policy._expr import compile_expr
from guard.policy._rate import MemoryRateStore

MAX_RATE_KEY = 200  # guard.policy._functions.MAX_RATE_KEY


class _Recording(MemoryRateStore):
    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str] = []

    def hit(self, key: str, window: float) -> int:
        self.keys.append(key)
        return super().hit(key, window)


def _env(store: MemoryRateStore, actor: Any) -> dict[str, Any]:
    return {"actor": actor, "params": {}, "context": {}, "__rate__": store}


def test_a_long_key_is_stored_as_a_digest_and_still_counts() -> None:
    store = _Recording()
    expr = compile_expr("rate(str(actor), 60)", rule_id="msg-rate")
    actor = "u" * 20_000  # max_text_chars of the sidecar: one copy per counter before
    assert [expr.evaluate(_env(store, actor)) for _ in range(3)] == [1, 2, 3]
    assert expr.evaluate(_env(store, actor + "x")) == 1  # another key, another counter
    assert all(len(key) < 300 for key in store.keys)


def test_short_keys_are_kept_and_no_key_can_name_a_digest() -> None:
    store = _Recording()
    expr = compile_expr("rate(actor, 60)", rule_id="r")
    assert expr.evaluate(_env(store, "alice")) == 1
    assert store.keys == ["r:alice"]
    long_key = "v" * (MAX_RATE_KEY + 1)
    expr.evaluate(_env(store, long_key))
    forged = store.keys[-1].removeprefix("r:")
    assert forged != long_key
    assert expr.evaluate(_env(store, forged)) == 1  # not the long key's counter


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=MAX_RATE_KEY * 2))
def test_stored_keys_are_bounded(actor: str) -> None:
    store = _Recording()
    compile_expr("rate(actor, 60)", rule_id="r").evaluate(_env(store, actor))
    assert len(store.keys[0]) <= len("r:") + MAX_RATE_KEY + 80
