"""total() sums amounts exactly as the decimals they are written as, in memory and in Redis
alike, and rounds the sum once: three amounts of 0.1 are 0.3, not 0.30000000000000004."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from guard import Guard, Verdict
from guard.policy import MemoryRateStore, parse
from tests.conftest import env_url

REDIS_ENV = "GUARD_TEST_REDIS_URL"

PACK = """\
name: pay
version: 1
rules:
  - id: small-change
    match: {kind: pay}
    when: total(str(actor), params.amount, 86400) > 0.3
    effect: escalate
"""

# (amounts, the exact decimal sum rounded once): naive float addition gets each one wrong.
CASES = [
    ([0.1, 0.1, 0.1], 0.3),
    ([0.1, 0.2, 0.3], 0.6),
    ([0.1] * 10, 1.0),
    ([1e16, 1.0, 1.0], 1.0000000000000002e16),
    ([1e-300, 1e300, 1e-300], 1e300),
    ([0.7, 0.1, 0.1, 0.1], 1.0),
]


def pay(amount: float) -> dict[str, object]:
    return {"kind": "pay", "actor": "u1", "params": {"amount": amount}}


@pytest.mark.parametrize(("amounts", "expected"), CASES)
def test_memory_sums_the_decimals_as_written(amounts: list[float], expected: float) -> None:
    store = MemoryRateStore()
    assert [store.total("k", a, 60) for a in amounts][-1] == expected
    assert store.peek_total("k", 0, 60) == expected
    assert store.peek_total("fresh", amounts[0], 60) == amounts[0]


def test_three_payments_of_a_dime_stay_within_a_limit_of_thirty_cents() -> None:
    guard = Guard([parse(PACK)], rate_store=MemoryRateStore())
    verdicts = [guard.check(pay(0.1)).verdict for _ in range(4)]
    assert verdicts == [Verdict.ALLOW, Verdict.ALLOW, Verdict.ALLOW, Verdict.ESCALATE]


def test_merged_amounts_stay_exact_past_the_cap() -> None:
    store = MemoryRateStore(max_hits_per_key=2)
    assert [store.total("k", 0.1, 60) for _ in range(6)][-1] == 0.6
    assert store.peek_total("k", 0.1, 60) == 0.7


def test_a_sum_past_the_largest_float_is_an_error() -> None:
    store = MemoryRateStore()
    store.total("k", 1.7e308, 60)
    with pytest.raises(ValueError, match="largest float"):
        store.total("k", 1.7e308, 60)


@pytest.fixture
def redis_store() -> Iterator[Callable[..., Any]]:
    redis = pytest.importorskip("redis")
    url = env_url(REDIS_ENV)
    if url is None:
        pytest.skip(f"{REDIS_ENV} is not set; the Redis rate store tests need a server")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {REDIS_ENV} is unreachable: {exc}")
    from guard.policy._rate_redis import RedisRateStore

    prefix = f"guard:test:{secrets.token_hex(6)}:"
    stores: list[Any] = []

    def make(cap: int = 10_000) -> Any:
        stores.append(RedisRateStore(url, prefix=prefix, max_hits_per_key=cap))
        return stores[-1]

    yield make
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()
    for s in stores:
        s.close()


@pytest.mark.parametrize(("amounts", "expected"), CASES)
def test_redis_sums_the_decimals_as_written(
    redis_store: Callable[..., Any], amounts: list[float], expected: float
) -> None:
    store = redis_store()
    assert [store.total("k", a, 60) for a in amounts][-1] == expected
    assert store.peek_total("k", 0, 60) == expected


def test_redis_and_memory_agree_at_every_step(redis_store: Callable[..., Any]) -> None:
    """Random amounts of every size, merged past a small cap: the same sums, bit for bit."""
    rng = random.Random(8)
    amounts = [
        rng.choice(
            [
                round(rng.uniform(0, 100), 2),
                rng.uniform(0, 1),
                rng.random() * 1e-5,
                float(rng.randint(0, 10**17)),
                0.1,
                0.0,
                5e-324,
                123456.789e200,
            ]
        )
        for _ in range(120)
    ]
    for cap in (10_000, 3):
        redis = redis_store(cap)
        memory = MemoryRateStore(max_hits_per_key=cap)
        key = f"k{cap}"
        for a in amounts:
            assert redis.peek_total(key, a, 600) == memory.peek_total(key, a, 600)
            assert redis.total(key, a, 600) == memory.total(key, a, 600)


def test_redis_guard_allows_three_dimes(redis_store: Callable[..., Any]) -> None:
    guard = Guard([parse(PACK)], rate_store=redis_store())
    verdicts = [guard.check(pay(0.1)).verdict for _ in range(4)]
    assert verdicts == [Verdict.ALLOW, Verdict.ALLOW, Verdict.ALLOW, Verdict.ESCALATE]


def test_redis_sum_past_the_largest_float_is_an_error(redis_store: Callable[..., Any]) -> None:
    store = redis_store()
    store.total("k", 1.7e308, 60)
    with pytest.raises(ValueError, match="largest float"):
        store.total("k", 1.7e308, 60)
