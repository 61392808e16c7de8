"""When the Redis behind the per-key limits does not answer, requests are refused with a
clear 503, not a bare 500."""

from __future__ import annotations

from typing import Any

import pytest

from service import KeyStore
from service._auth import new_key
from tests.service.conftest import bearer, pay
from tests.service.test_backends import _redis_url


def _unreachable() -> str:
    return "redis://127.0.0.1:1/0"  # port 1: refused at once, nothing listens there


@pytest.mark.parametrize(
    ("redis", "status"),
    [
        pytest.param(_unreachable, 503, id="redis-down-refused"),
        pytest.param(_redis_url, 200, id="redis-up-allowed"),
    ],
)
def test_an_uncounted_request_is_refused_clearly(make_client: Any, redis: Any, status: int) -> None:
    raw, entry = new_key("agent", ["check"], "acme")
    client = make_client(keys=KeyStore([entry]), redis=redis())
    r = client.post("/v1/check", json={"action": pay(1)}, headers=bearer(raw))
    assert r.status_code == status
    if status == 503:
        error = r.json()["error"]
        assert error["code"] == "rate_limit_unavailable"
        assert "Redis" in error["message"] and "127.0.0.1" not in error["message"]
