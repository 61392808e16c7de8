"""total() sums in the Redis rate store, against the server named by GUARD_TEST_REDIS_URL."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest

from guard import Guard, Verdict
from guard._exceptions import RateStoreUnavailable
from guard.policy import parse
from tests.conftest import env_url

pytest.importorskip("redis", reason="redis is not installed")

from guard.policy._rate_redis import RedisRateStore  # noqa: E402

REDIS_ENV = "GUARD_TEST_REDIS_URL"
DOWN = "redis://guard:s3cret@127.0.0.1:1/0"  # nothing listens on port 1

PACK = """\
name: pay
version: 1
defaults: {verdict: allow, on_error: deny}
rules:
  - id: paid-in-a-day
    match: {kind: pay}
    when: total(str(actor), params.amount, 86400) > 500
    effect: escalate
  - id: burst
    match: {kind: pay}
    when: rate(str(actor), 600) > 100
    effect: deny
"""


def pay(amount: float, actor: str = "u1") -> dict[str, object]:
    return {"kind": "pay", "actor": actor, "params": {"amount": amount}}


@pytest.fixture(scope="module")
def redis_url() -> str:
    """The URL of a reachable Redis server, or skip saying why there is none."""
    import redis

    url = env_url(REDIS_ENV)
    if url is None:
        pytest.skip(f"{REDIS_ENV} is not set; the Redis rate store tests need a server")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {REDIS_ENV} is unreachable: {exc}")
    return url


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    import redis

    name = f"guard:test:{secrets.token_hex(6)}:"
    yield name
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{name}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def store(redis_url: str, prefix: str) -> Iterator[RedisRateStore]:
    made = RedisRateStore(redis_url, prefix=prefix)
    yield made
    made.close()


def test_sums_per_key_and_window_apart_from_counts(store: RedisRateStore) -> None:
    assert [store.total("u1", a, 60) for a in (100, 0.5, 0, 250)] == [100, 100.5, 100.5, 350.5]
    assert store.total("u2", 1, 60) == 1  # another key
    assert store.total("u1", 1, 30) == 1  # another window is another counter
    assert store.hit("u1", 60) == 1  # counts are kept apart from sums
    assert store.total("u1", 0, 60) == 350.5


def test_peek_adds_the_amount_without_recording(store: RedisRateStore) -> None:
    store.total("u1", 300, 60)
    assert store.peek_total("u1", 200.25, 60) == 500.25
    assert store.peek_total("u1", 0, 60) == 300
    assert store.peek_total("nobody", 7, 60) == 7


def test_two_stores_share_one_sum(redis_url: str, prefix: str) -> None:
    """Two stores stand for two sidecar processes pointed at one Redis."""
    one = RedisRateStore(redis_url, prefix=prefix)
    two = RedisRateStore(redis_url, prefix=prefix)
    assert one.total("u1", 300, 60) == 300
    assert two.total("u1", 300, 60) == 600
    assert one.peek_total("u1", 0, 60) == 600
    one.close()
    two.close()


def test_guards_on_one_redis_escalate_a_payment_split_across_them(
    redis_url: str, prefix: str
) -> None:
    stores = [RedisRateStore(redis_url, prefix=prefix) for _ in range(2)]
    a, b = (Guard([parse(PACK)], rate_store=s) for s in stores)
    assert a.check(pay(300)).verdict is Verdict.ALLOW
    assert b.evaluate(pay(200)).verdict is Verdict.ALLOW  # a dry run: 500, not recorded
    assert b.check(pay(200)).verdict is Verdict.ALLOW  # 500
    assert a.evaluate(pay(0.5)).verdict is Verdict.ESCALATE
    assert a.check(pay(0.5)).verdict is Verdict.ESCALATE
    for s in stores:
        s.close()


def test_past_the_cap_amounts_merge_and_the_sum_stays_whole(redis_url: str, prefix: str) -> None:
    store = RedisRateStore(redis_url, prefix=prefix, max_hits_per_key=3)
    assert [store.total("u1", a, 60) for a in (400, 1, 1, 1, 1, 0.5)] == [
        400,
        401,
        402,
        403,
        404,
        404.5,
    ]
    store.close()


def test_the_sum_window_slides(store: RedisRateStore) -> None:
    assert store.total("u1", 10, 2.0) == 10
    time.sleep(1.2)
    assert store.total("u1", 5, 2.0) == 15
    time.sleep(1.2)  # the first amount left the window, the second has not
    assert store.total("u1", 0, 2.0) == 5


def test_an_unreachable_redis_fails_closed() -> None:
    store = RedisRateStore(DOWN, timeout=0.2)
    with pytest.raises(RateStoreUnavailable, match=r"could not add the amount") as caught:
        store.total("u1", 5, 60)
    assert "s3cret" not in str(caught.value)
    d = Guard([parse(PACK)], rate_store=store).check(pay(5))
    assert d.verdict is Verdict.DENY
    assert any(h.rule_id == "paid-in-a-day" and h.error for h in d.hits)
    store.close()
