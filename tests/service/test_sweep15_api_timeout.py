"""Sweep 15: a 504 on a POST says the work may still be done, because it may.

The request timeout answers 504 and stops waiting, but a decision already handed to a worker
thread is still decided and recorded. The answer said only "the request took longer than
N s": a caller retrying on it recorded (and perhaps ran) the action twice.
"""

from __future__ import annotations

import threading
import time

from tests.service.conftest import pay


def _held_up(client, method_name: str) -> threading.Event:
    """Make the state's guard wait in `method_name` until the returned event is set."""
    guard = client.app_state.guard
    original = getattr(guard, method_name)
    go = threading.Event()

    def slow(*args, **kwargs):
        go.wait(10)
        return original(*args, **kwargs)

    setattr(guard, method_name, slow)
    return go


def test_a_batch_that_times_out_says_it_may_still_be_recorded(make_client):
    client = make_client(request_timeout=0.05)
    go = _held_up(client, "check_batch")
    before = client.app_state.audit.size
    response = client.post("/v1/check/batch", json={"actions": [pay(1), pay(2)]})
    go.set()
    assert response.status_code == 504, response.text
    error = response.json()["error"]
    assert error["code"] == "timeout"
    assert "may still" in error["message"]
    assert error["details"] == {"may_have_completed": True}
    # ... and it was: the two decisions are recorded after the 504.
    for _ in range(200):
        if client.app_state.audit.size == before + 2:
            break
        time.sleep(0.05)
    assert client.app_state.audit.size == before + 2


def test_a_read_that_times_out_claims_nothing_more(make_client):
    client = make_client(request_timeout=0.05)
    client.post("/v1/check", json={"action": pay(1)})
    audit = client.app_state.audit
    original = audit.head
    go = threading.Event()

    def slow_head(*args, **kwargs):
        go.wait(10)
        return original(*args, **kwargs)

    audit.head = slow_head
    try:
        response = client.get("/v1/audit/head")
    finally:
        go.set()
        audit.head = original
    assert response.status_code == 504
    error = response.json()["error"]
    assert "may still" not in error["message"]
    assert error["details"] == {}
