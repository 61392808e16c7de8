"""/readyz tells when the Redis behind the per-key limits does not answer.

Before: with `--redis` pointing at a Redis that does not answer (down, wrong port), the
sidecar started and `/readyz` said `{"status": "ready"}` while every API request
was refused `503 rate_limit_unavailable`: a load balancer kept sending traffic to a
sidecar refusing all of it, and nothing at start-up said so. Now /readyz (GET and HEAD)
is `503 rate_limit_unavailable` while Redis does not answer, and start-up logs a warning
naming its host and port (never its password).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from service import KeyStore
from service._auth import new_key
from tests.service.conftest import bearer, pay
from tests.service.test_backends import _redis_url

DOWN = "redis://user:s3cret-pw@127.0.0.1:1/0"  # port 1: refused at once


def test_readyz_is_503_while_redis_does_not_answer(
    make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    raw, entry = new_key("agent", ["check"], "acme")
    with caplog.at_level(logging.WARNING, logger="guard.service"):
        client = make_client(keys=KeyStore([entry]), redis=DOWN)
    refused = client.post("/v1/check", json={"action": pay(1)}, headers=bearer(raw))
    assert refused.status_code == 503
    r = client.get("/readyz")
    assert r.status_code == 503, r.json()
    error = r.json()["error"]
    assert error["code"] == "rate_limit_unavailable" and "Redis" in error["message"]
    assert "s3cret" not in r.text and "127.0.0.1" not in r.text
    assert client.head("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200  # the process itself is alive
    warned = [rec.getMessage() for rec in caplog.records if "Redis" in rec.getMessage()]
    assert warned and "127.0.0.1:1" in warned[0]
    assert not any("s3cret" in rec.getMessage() for rec in caplog.records)


def test_readyz_is_ready_with_a_redis_that_answers(make_client: Any) -> None:
    client = make_client(redis=_redis_url())
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ready"
