"""The Redis rate store against the server named by GUARD_TEST_REDIS_URL."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from guard import Guard, Verdict
from guard._exceptions import DependencyMissing, EvaluationError, RateStoreUnavailable
from guard.policy import RateStore, parse
from tests.conftest import env_url

pytest.importorskip("redis", reason="redis is not installed")

from guard.policy._rate_redis import RedisRateStore  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
REDIS_ENV = "GUARD_TEST_REDIS_URL"
DOWN = "redis://guard:s3cret@127.0.0.1:1/0"  # nothing listens on port 1

PACK = """\
name: chat
version: 1
defaults: {verdict: allow, on_error: deny}
rules:
  - id: messaging-rate-limit
    match: {kind: send_message}
    when: rate(str(actor), 60) > 20
    effect: deny
    message: "{actor} sent more than 20 messages in one minute"
"""


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


def test_it_is_a_rate_store(store: RedisRateStore) -> None:
    assert isinstance(store, RateStore)


def test_counts_hits_per_key_and_window(store: RedisRateStore) -> None:
    assert [store.hit("u1", 60) for _ in range(3)] == [1, 2, 3]
    assert store.hit("u2", 60) == 1  # another key
    assert store.hit("u1", 30) == 1  # another window is another counter
    assert store.hit("u1", 60) == 4


def test_hits_at_the_same_instant_all_count(store: RedisRateStore) -> None:
    counts = [store.hit("burst", 60) for _ in range(500)]
    assert counts == list(range(1, 501))


def test_a_short_window_expires(redis_url: str, store: RedisRateStore, prefix: str) -> None:
    import redis

    assert [store.hit("u1", 0.5) for _ in range(3)] == [1, 2, 3]
    time.sleep(0.7)
    assert store.hit("u1", 0.5) == 1
    time.sleep(1.2)  # the idle counter itself expires, so memory does not grow
    client = redis.Redis.from_url(redis_url)
    assert list(client.scan_iter(match=f"{prefix}*")) == []
    client.close()


def test_the_window_slides(store: RedisRateStore) -> None:
    assert store.hit("u1", 2.0) == 1
    time.sleep(1.2)
    assert store.hit("u1", 2.0) == 2
    time.sleep(1.2)  # the first hit left the window, the second has not
    assert store.hit("u1", 2.0) == 2


def test_a_count_saturates_at_the_cap(redis_url: str, prefix: str) -> None:
    store = RedisRateStore(redis_url, prefix=prefix, max_hits_per_key=5)
    assert [store.hit("u1", 60) for _ in range(8)] == [1, 2, 3, 4, 5, 5, 5, 5]
    store.close()


# Hits one shared key 100 times and prints each count it got back.
HITTER = """
import sys
from guard.policy._rate_redis import RedisRateStore

store = RedisRateStore(sys.argv[1], prefix=sys.argv[2])
sys.stdin.readline()
print(" ".join(str(store.hit("shared", 60)) for _ in range(100)), flush=True)
"""


def test_two_processes_share_one_counter(redis_url: str, prefix: str) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", HITTER, redis_url, prefix],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate("go\n", timeout=60) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    counts = [int(n) for out, _ in outputs for n in out.split()]
    # Atomic hits: every count from 1 to 200 was handed out exactly once.
    assert sorted(counts) == list(range(1, 201))


def test_an_outage_raises_an_evaluation_error_without_the_password() -> None:
    store = RedisRateStore(DOWN, timeout=0.2)
    with pytest.raises(RateStoreUnavailable, match="could not count the hit") as caught:
        store.hit("u1", 60)
    assert isinstance(caught.value, EvaluationError)
    assert "s3cret" not in str(caught.value) and "guard:***@127.0.0.1:1" in str(caught.value)


def test_a_missing_client_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    monkeypatch.delitem(sys.modules, "guard.policy._rate_redis")
    monkeypatch.setitem(sys.modules, "redis", None)  # as if not installed
    with pytest.raises(DependencyMissing, match=r"pip install 'agent-guard\[service\]'"):
        importlib.import_module("guard.policy._rate_redis")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"timeout": 0}, "timeout must be a positive number", id="timeout"),
        pytest.param({"max_hits_per_key": 0}, "max_hits_per_key must be at least 1", id="cap"),
    ],
)
def test_bad_options(options: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RedisRateStore("redis://127.0.0.1:6379/0", **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("window", [0, -1, float("inf"), float("nan")])
def test_bad_windows(window: float) -> None:
    with pytest.raises(ValueError, match="window must be a positive number"):
        RedisRateStore(DOWN).hit("u1", window)


def send(guard: Guard, n: int) -> Verdict:
    action = {"kind": "send_message", "actor": "u1", "params": {"message": f"hello {n}"}}
    return guard.check(action).verdict


def test_an_outage_makes_the_rule_fail_closed() -> None:
    guard = Guard([parse(PACK)], rate_store=RedisRateStore(DOWN, timeout=0.2))
    decision = guard.check({"kind": "send_message", "actor": "u1", "params": {}})
    assert decision.verdict == Verdict.DENY
    (hit,) = decision.hits
    assert hit.rule_id == "messaging-rate-limit" and hit.error is not None
    assert "could not count the hit" in hit.error


def test_two_guards_share_the_limit(redis_url: str, prefix: str) -> None:
    guards = [
        Guard([parse(PACK)], rate_store=RedisRateStore(redis_url, prefix=prefix)) for _ in range(2)
    ]
    verdicts = [send(guards[n % 2], n) for n in range(21)]
    assert verdicts[:20] == [Verdict.ALLOW] * 20
    assert verdicts[20] == Verdict.DENY  # the 21st, counted across both guards
    last = guards[0].check({"kind": "send_message", "actor": "u1", "params": {}})
    assert [h.rule_id for h in last.hits] == ["messaging-rate-limit"]
    assert guards[1].check({"kind": "send_message", "actor": "u2", "params": {}}).verdict == "allow"


def test_peek_counts_without_recording(store: RedisRateStore) -> None:
    assert store.peek("k", 60) == 1
    assert [store.hit("k", 60), store.peek("k", 60), store.peek("k", 60)] == [1, 2, 2]
    assert store.hit("k", 60) == 2
