"""wait_for_review and wait_for_resolution take a number of seconds >= 0: NaN made the
long-poll loop forever (its deadline never passed), a negative wait passed unnoticed."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from guard import InvalidAction
from guard.client import GuardClient, RemoteGuard

HELD = {"kind": "pay", "params": {"amount": 900}}
BAD = [
    pytest.param(math.nan, id="nan"),
    pytest.param(-1.0, id="negative"),
    pytest.param("60", id="string"),
    pytest.param(True, id="boolean"),
]


def counting(calls: list[str]) -> GuardClient:
    """A fake sidecar whose long-poll answers 408 (still pending) three times, then 500."""

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) > 3:
            return httpx.Response(500, json={"error": {"code": "too_many", "message": "!"}})
        return httpx.Response(408, json={"error": {"code": "timeout", "message": "pending"}})

    http = httpx.Client(base_url="http://sidecar", transport=httpx.MockTransport(handle))
    return GuardClient("http://sidecar", client=http)


@pytest.mark.parametrize("wait", BAD)
def test_a_wait_that_is_not_seconds_is_refused_before_any_long_poll(wait: Any) -> None:
    calls: list[str] = []
    gc = counting(calls)
    with pytest.raises(InvalidAction, match=r"^timeout must be a number of seconds >= 0"):
        gc.wait_for_resolution("d1", wait)
    with pytest.raises(InvalidAction, match=r"^wait_for_review must be a number of seconds"):
        RemoteGuard("", client=gc, wait_for_review=wait)
    with pytest.raises(InvalidAction, match=r"^wait_for_review must be a number of seconds"):
        RemoteGuard("", client=gc).agent(wait_for_review=wait)
    assert calls == []


@pytest.mark.parametrize("wait", [0, 0.0])
def test_zero_means_not_waiting(wait: float) -> None:
    calls: list[str] = []
    assert counting(calls).wait_for_resolution("d1", wait) is None
    assert calls == ["/v1/escalations/d1/wait"]
    assert RemoteGuard("", client=counting([]), wait_for_review=wait).wait_for_review == 0
