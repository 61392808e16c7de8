"""A sidecar's 429 says 'retry after N s' once, whether its message says it or not."""

from __future__ import annotations

import httpx
import pytest

from guard.client import GuardClient, RemoteError


def _client(message: str) -> GuardClient:
    def answer(request: httpx.Request) -> httpx.Response:
        body = {"error": {"code": "rate_limited", "message": message, "details": {}}}
        return httpx.Response(429, json=body, headers={"Retry-After": "44"})

    http = httpx.Client(base_url="http://sidecar", transport=httpx.MockTransport(answer))
    return GuardClient("http://sidecar", client=http)


@pytest.mark.parametrize(
    "message",
    ["rate limit 10 per 1 minute exceeded for key 'bot'; retry after 44 s", "slow down"],
)
def test_retry_after_is_said_once(message: str) -> None:
    with pytest.raises(RemoteError) as info:
        _client(message).check({"kind": "search"})
    assert str(info.value).count("retry after 44 s") == 1
    assert info.value.details["retry_after"] == "44"
