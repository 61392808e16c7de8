"""Shared backends: per-key limits and rate() in Redis, the review queue in PostgreSQL.

Each test stands in for several sidecar processes with several `ServiceState`s pointed at
the same server. URLs come from GUARD_TEST_REDIS_URL and GUARD_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import os
import uuid
import warnings

import anyio
import pytest

from service import KeyStore, ServiceState, Settings, create_app
from service._auth import new_key
from service._errors import AlreadyResolved
from tests.service.conftest import bearer, pay

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

RATE_PACK = """\
name: rated
version: 1
rules:
  - id: too-many
    when: rate(str(actor), 60) > 2
    effect: deny
"""


def _redis_url() -> str:
    url = os.environ.get("GUARD_TEST_REDIS_URL")
    if not url:
        pytest.skip("GUARD_TEST_REDIS_URL is not set (CI sets redis://127.0.0.1:6379/15)")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as exc:
        pytest.skip(f"Redis at {url} is not reachable: {exc}")
    try:
        from guard.policy._rate_redis import RedisRateStore  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"the Redis rate store is not available yet: {exc}")
    return url


def _postgres_url() -> str:
    url = os.environ.get("GUARD_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("GUARD_TEST_POSTGRES_URL is not set (CI sets postgresql://...:5432/test)")
    from guard.audit import open_audit

    try:
        open_audit(url).close()
    except Exception as exc:
        pytest.skip(f"PostgreSQL audit store not usable at {url}: {type(exc).__name__}: {exc}")
    return url


def test_per_key_limits_are_shared_through_redis(tmp_path, settings):
    url = _redis_url()
    raw, entry = new_key(f"k-{uuid.uuid4().hex[:8]}", ["check"], "acme")
    keys = KeyStore([entry])
    shared = settings.with_(redis=url, rate_limit="3/minute")
    states = [ServiceState.build(shared, keys=keys) for _ in range(2)]
    try:
        a, b = (TestClient(create_app(state=s)) for s in states)
        codes = [
            c.post("/v1/check", json={"action": pay(1)}, headers=bearer(raw)).status_code
            for c in (a, b, a, b)
        ]
        assert codes == [200, 200, 200, 429]
        r = b.post("/v1/check", json={"action": pay(1)}, headers=bearer(raw))
        assert r.json()["error"]["code"] == "rate_limited" and int(r.headers["retry-after"]) >= 1
    finally:
        for s in states:
            s.close()


def test_rate_rules_count_across_processes_in_redis(tmp_path):
    url = _redis_url()
    pack = tmp_path / "rated.yaml"
    pack.write_text(RATE_PACK, encoding="utf-8")
    shared = Settings(policy=str(pack), audit="memory://", redis=url)
    states = [ServiceState.build(shared) for _ in range(2)]
    actor = f"actor-{uuid.uuid4().hex}"
    try:
        verdicts = [
            states[i % 2].guard.check({"kind": "x", "actor": actor}).verdict.value for i in range(4)
        ]
        assert verdicts == ["allow", "allow", "deny", "deny"]
    finally:
        for s in states:
            s.close()


def test_review_queue_across_processes_on_postgres(tmp_path, pack_file):
    url = _postgres_url()
    shared = Settings(
        policy=str(pack_file), audit=url, signing_key=str(tmp_path / "log.key"), poll_interval=0.05
    )
    a, b = ServiceState.build(shared), ServiceState.build(shared)
    tenant = f"t-{uuid.uuid4().hex[:12]}"  # the database outlives this test
    try:
        held = a.guard.check(pay(900, tenant=tenant)).id
        assert [r["id"] for r in b.escalations.pending(tenant)] == [held]

        async def main():
            result = {}
            async with anyio.create_task_group() as tg:

                async def wait():
                    result["r"] = await a.escalations.wait(held, 5.0)

                tg.start_soon(wait)
                await anyio.sleep(0.2)
                await anyio.to_thread.run_sync(
                    b.escalations.resolve, held, "approve", "", "ana", tenant
                )
            return result["r"]

        assert anyio.run(main)["outcome"] == "approve"
        assert a.escalations.pending(tenant) == []
        with pytest.raises(AlreadyResolved):
            a.escalations.resolve(held, "deny", "", "bo", tenant)
        client = TestClient(create_app(state=b))
        proof = client.get(f"/v1/decisions/{held}/proof").json()
        assert proof["root"] == proof["head"]["root"], proof
        assert b.audit.public_key_hex == a.audit.public_key_hex
    finally:
        a.close()
        b.close()
