"""Defects found by using the sidecar as a new user would: each test names what it guards."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from guard.client import GuardClient, RemoteError, RemoteGuard
from service._deps import get_principal
from tests.service.conftest import pay

pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the 'timeout' argument with the TestClient"
)


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"since": "9999-12-31T23:59:59-01:00"}, id="since-past-year-9999-in-utc"),
        pytest.param({"until": "9999-12-31T23:30:00-00:45"}, id="until-past-year-9999-in-utc"),
        pytest.param({"since": "0001-01-01T00:00:00+01:00"}, id="since-before-year-1-in-utc"),
    ],
)
@pytest.mark.parametrize("path", ["/v1/decisions", "/v1/decisions/export"])
def test_a_time_outside_the_utc_range_is_422_not_500(client, path, query):
    r = client.get(path, params=query)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"
    assert r.json()["error"]["details"]["errors"][0]["loc"] == ["query", next(iter(query))]


def test_an_edge_time_that_exists_in_utc_still_filters(client):
    client.post("/v1/check", json={"action": pay(1)})
    r = client.get("/v1/decisions", params={"since": "0001-01-01T00:00:00-01:00"})
    assert r.status_code == 200 and len(r.json()["items"]) == 1


def test_an_unexpected_error_is_a_500_answer_and_logs_no_value(client, caplog):
    def broken() -> None:
        raise KeyError("jo@example.com")

    client.app.dependency_overrides[get_principal] = broken
    with caplog.at_level(logging.DEBUG):
        r = client.get("/v1/decisions")
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "internal_error"
    assert "jo@example.com" not in r.text
    assert "jo@example.com" not in caplog.text
    assert "KeyError" in caplog.text


def test_reload_with_the_policy_source_gone_is_a_declared_404(client, pack_file):
    pack_file.unlink()
    r = client.post("/v1/policies/reload")
    assert r.status_code == 404 and r.json()["error"]["code"] == "policy_not_found"
    responses = client.get("/openapi.json").json()["paths"]["/v1/policies/reload"]["post"]
    assert "404" in responses["responses"]
    assert client.post("/v1/check", json={"action": pay(1)}).status_code == 200


@pytest.mark.parametrize("path", ["/v1/check", "/v1/check/batch", "/v1/shield", "/v1/rank"])
def test_a_chunked_body_over_the_limit_says_the_limit(make_client, path):
    client = make_client(max_body_bytes=1000)

    def chunks():
        yield b'{"actions": [{"kind": "x", "params": {"m": "'
        for _ in range(10):
            yield b"a" * 500
        yield b'"}}]}'

    r = client.post(path, content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"] == {
        "code": "body_too_large",
        "message": "the request body exceeds 1000 bytes",
        "details": {"max_bytes": 1000},
    }


def test_wait_for_review_longer_than_the_servers_long_poll_maximum(client):
    """The sidecar refuses waits above long_poll_max (5 s here): the client asks for less."""
    remote = GuardClient("http://testserver", client=client)
    g = RemoteGuard("", client=remote, wait_for_review=8)

    def approve() -> None:
        time.sleep(0.3)
        pending = client.get("/v1/escalations").json()["items"]
        client.post(
            f"/v1/escalations/{pending[0]['decision_id']}/resolve", json={"outcome": "approve"}
        )

    thread = threading.Thread(target=approve)
    thread.start()
    action = g.agent(lambda: pay(900))()
    thread.join()
    assert action == pay(900)


def test_wait_for_resolution_above_the_maximum_still_expires_as_none(make_client):
    client = make_client(long_poll_max=0.2)
    remote = GuardClient("http://testserver", client=client)
    held = remote.check(pay(900))
    started = time.monotonic()
    assert remote.wait_for_resolution(held.id, 0.5) is None
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"since": "9999-12-31T23:59:59-01:00"}, id="since-past-year-9999-in-utc"),
        pytest.param({"until": "9999-12-31T23:59:59-01:00"}, id="until-past-year-9999-in-utc"),
        pytest.param({"since": "0001-01-01T00:00:00+01:00"}, id="since-before-year-1-in-utc"),
    ],
)
@pytest.mark.parametrize("path", ["/ui/decisions", "/ui/decisions/export"])
def test_the_console_reports_a_time_outside_the_utc_range_as_a_bad_filter(client, path, query):
    r = client.get(path, params=query)
    assert r.status_code != 500
    if path == "/ui/decisions":
        assert r.status_code == 200 and "is not a date and time" in r.text


@pytest.mark.parametrize(
    "decision_id",
    [
        pytest.param("../../policies/reload#", id="dot-segments-and-fragment"),
        pytest.param("..", id="parent"),
        pytest.param("x?verdict=deny", id="query"),
        pytest.param("a/b", id="slash"),
    ],
)
def test_the_client_keeps_a_decision_id_in_its_own_path_segment(client, decision_id):
    """An id from elsewhere (a queue, a user) must not make the client call another endpoint."""
    remote = GuardClient("http://testserver", client=client)
    seen: list[str] = []
    client.event_hooks["request"].append(
        lambda request: seen.append(request.url.raw_path.split(b"?")[0])
    )
    for call in (
        lambda: remote.resolve(decision_id, "approve"),
        lambda: remote.review(decision_id, "correct"),
        lambda: remote.decision(decision_id),
        lambda: remote.proof(decision_id),
        lambda: remote.wait_for_resolution(decision_id, 0),
    ):
        with pytest.raises(RemoteError) as info:
            call()
        assert info.value.status == 404, seen[-1]
    assert [path.split(b"/")[:3] for path in seen] == [
        [b"", b"v1", b"escalations"],
        [b"", b"v1", b"decisions"],
        [b"", b"v1", b"decisions"],
        [b"", b"v1", b"decisions"],
        [b"", b"v1", b"escalations"],
    ]
    assert all(b"?" not in path and b"/../" not in path for path in seen)
    assert all(path.count(b"/") <= 4 for path in seen)


def test_the_pending_queue_never_returns_more_than_limit_and_loses_nothing(client):
    held = [client.post("/v1/check", json={"action": pay(900)}).json()["id"] for _ in range(7)]
    for resolved in (held[5], held[2]):
        client.post(f"/v1/escalations/{resolved}/resolve", json={"outcome": "approve"})
    pending = [i for i in reversed(held) if i not in (held[5], held[2])]
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/escalations", params=params).json()
        assert len(page["items"]) <= 2
        seen += [i["decision_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == pending
