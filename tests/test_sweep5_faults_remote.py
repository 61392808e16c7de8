"""Remote mode under faults: no usable answer from the sidecar is a RemoteError naming the
cause, and the wrapped policy's action never runs on it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from guard import Guard
from guard.client import GuardClient, RemoteError, RemoteGuard
from tests.service.conftest import (  # noqa: F401 - fixtures
    client,
    keyed,
    keys_file,
    make_client,
    pack_file,
    raw_keys,
    settings,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the 'timeout' argument with the TestClient"
)

PACK = """\
name: t
version: 1
defaults: {verdict: allow, on_error: deny}
rules:
  - id: no-shell
    match: {kind: run_shell}
    when: kind == "run_shell"
    effect: deny
  - id: big
    match: {kind: pay}
    when: params.amount > 500
    effect: escalate
"""

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def local(tmp_path: Path) -> Guard:
    path = tmp_path / "t.yaml"
    path.write_text(PACK, encoding="utf-8")
    return Guard.from_policy(path)


def remote(handler: Handler) -> RemoteGuard:
    http = httpx.Client(base_url="http://sidecar", transport=httpx.MockTransport(handler))
    return RemoteGuard("", client=GuardClient("http://sidecar", client=http))


def raising(exc: type[httpx.TransportError], text: str) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        raise exc(text, request=request)

    return handle


def answer(status: int, body: Any = None, text: str | None = None, **headers: str) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        if text is not None:
            return httpx.Response(status, text=text, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return handle


ERROR = {"error": {"code": "overloaded", "message": "busy", "details": {}}}

FAULTS = [
    pytest.param(
        raising(httpx.ConnectError, "[Errno 111] Connection refused"),
        0,
        "sidecar_unreachable",
        "Connection refused",
        id="connection-refused",
    ),
    pytest.param(
        raising(httpx.ConnectError, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
        0,
        "sidecar_unreachable",
        "CERTIFICATE_VERIFY_FAILED",
        id="tls-error",
    ),
    pytest.param(
        raising(httpx.ConnectTimeout, "timed out"),
        0,
        "sidecar_unreachable",
        "timed out",
        id="connect-timeout",
    ),
    pytest.param(
        raising(httpx.ReadTimeout, "timed out"),
        0,
        "sidecar_timeout",
        "may have decided and recorded it",
        id="read-timeout",
    ),
    pytest.param(
        raising(httpx.RemoteProtocolError, "Server disconnected"),
        0,
        "connection_lost",
        "Server disconnected",
        id="dropped",
    ),
    pytest.param(answer(500, ERROR), 500, "overloaded", "busy", id="500-error-object"),
    pytest.param(
        answer(502, text="<html>bad gateway</html>"),
        502,
        "http_error",
        "bad gateway",
        id="502-html",
    ),
    pytest.param(answer(503, text=""), 503, "http_error", "Service Unavailable", id="503-empty"),
    pytest.param(
        answer(429, ERROR, **{"Retry-After": "7"}), 429, "overloaded", "retry after 7 s", id="429"
    ),
    pytest.param(answer(200, text='{"id": '), 200, "bad_response", "not JSON", id="truncated"),
    pytest.param(answer(200, text=""), 200, "bad_response", "not JSON", id="empty-200"),
    pytest.param(answer(200, [1]), 200, "bad_response", "JSON list", id="a-list"),
    pytest.param(
        answer(200, {"ok": True}), 200, "bad_response", "not a decision", id="not-a-decision"
    ),
    pytest.param(
        answer(302, {"ok": True}, Location="http://elsewhere/v1/check"),
        302,
        "redirect_refused",
        "elsewhere",
        id="redirect-other-host",
    ),
    pytest.param(
        answer(307, text="", Location="https://sidecar/v1/check"),
        307,
        "redirect_refused",
        "307",
        id="redirect-empty-body",
    ),
]


@pytest.mark.parametrize(("handler", "status", "code", "says"), FAULTS)
def test_no_usable_answer_is_a_remote_error_and_the_action_never_runs(
    handler: Handler, status: int, code: str, says: str
) -> None:
    rg = remote(handler)
    returned = []

    @rg.agent
    def act() -> dict[str, Any]:
        return {"kind": "pay", "params": {"amount": 1}}

    with pytest.raises(RemoteError) as info:
        returned.append(act())
    assert (info.value.status, info.value.code) == (status, code)
    assert says in str(info.value)
    assert returned == []


def test_429_keeps_retry_after_in_details() -> None:
    rg = remote(answer(429, ERROR, **{"Retry-After": "7"}))
    with pytest.raises(RemoteError) as info:
        rg.check({"kind": "pay", "params": {"amount": 1}})
    assert info.value.details == {"retry_after": "7"}


def serving(local: Guard, change: Callable[[dict[str, Any]], dict[str, Any]]) -> Handler:
    """A fake sidecar that decides what it is sent in process, then `change`s the decision."""

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if request.url.path == "/v1/rank":
            decision = local.rank(body["items"], query=body.get("query"))
        else:
            decision = local.check(body["action"])
        return httpx.Response(200, json=change(decision.model_dump(mode="json")))

    return handle


def another_action(local: Guard) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda _: local.check({"kind": "pay", "params": {"amount": 2}}).model_dump(mode="json")


def test_a_decision_for_another_action_is_refused(local: Guard) -> None:
    rg = remote(serving(local, another_action(local)))
    returned = []

    @rg.agent
    def act() -> dict[str, Any]:
        return {"kind": "pay", "params": {"amount": 1}}

    with pytest.raises(RemoteError) as info:
        returned.append(act())
    assert info.value.code == "decision_mismatch"
    assert "for another action" in str(info.value)
    assert returned == []


def test_the_decision_for_the_action_sent_is_applied(local: Guard) -> None:
    rg = remote(serving(local, lambda d: d))
    assert rg.agent(lambda: {"kind": "pay", "params": {"amount": 1}})() == {
        "kind": "pay",
        "params": {"amount": 1},
    }


def test_an_allow_without_final_action_is_refused(local: Guard) -> None:
    rg = remote(serving(local, lambda d: {**d, "final_action": None}))
    with pytest.raises(RemoteError) as info:
        rg.agent(lambda: {"kind": "pay", "params": {"amount": 1}})()
    assert info.value.code == "bad_response"


def test_a_ranking_decision_for_other_items_is_refused(local: Guard) -> None:
    other = local.rank([{"id": "x"}]).model_dump(mode="json")
    rg = remote(serving(local, lambda _: other))
    with pytest.raises(RemoteError) as info:
        rg.ranker(lambda: [{"id": "a"}, {"id": "b"}])()
    assert info.value.code == "decision_mismatch"
    kept = remote(serving(local, lambda d: d)).ranker(lambda: [{"id": "a"}, {"id": "b"}])()
    assert kept == [{"id": "a"}, {"id": "b"}]


def test_a_batch_answer_out_of_order_or_short_is_refused(local: Guard) -> None:
    a, b = {"kind": "pay", "params": {"amount": 1}}, {"kind": "pay", "params": {"amount": 2}}
    da, db = (local.check(x).model_dump(mode="json") for x in (a, b))
    for items, code in (([db, da], "decision_mismatch"), ([da], "bad_response")):
        rg = remote(answer(200, {"items": items, "next_cursor": None}))
        with pytest.raises(RemoteError) as info:
            rg.client.check_batch([a, b])
        assert info.value.code == code
    rg = remote(answer(200, {"items": [da, db], "next_cursor": None}))
    assert [d.id for d in rg.client.check_batch([a, b])] == [da["id"], db["id"]]


def held(local: Guard) -> tuple[dict[str, Any], Handler]:
    """A fake sidecar that escalates the payment and answers the long-poll with `wait`."""
    decision = local.check({"kind": "pay", "params": {"amount": 900}}).model_dump(mode="json")
    return decision, answer(200, decision)


def waiting(decision: dict[str, Any], wait: Handler) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/wait"):
            return wait(request)
        return httpx.Response(200, json=decision)

    return handle


def approval(decision_id: str) -> dict[str, Any]:
    resolution = {"decision_id": decision_id, "outcome": "approve", "reviewer": "r"}
    return {"decision_id": decision_id, "status": "approved", "resolution": resolution}


@pytest.mark.parametrize(
    ("wait", "code"),
    [
        pytest.param(
            raising(httpx.RemoteProtocolError, "peer closed"), "connection_lost", id="drop"
        ),
        pytest.param(raising(httpx.ReadTimeout, "timed out"), "sidecar_timeout", id="timeout"),
        pytest.param(answer(200, text="{"), "bad_response", id="truncated"),
        pytest.param(answer(200, {"status": "approved"}), "bad_response", id="no-resolution"),
        pytest.param(answer(200, approval("other-id")), "decision_mismatch", id="other-decision"),
    ],
)
def test_a_failed_wait_for_review_never_runs_the_held_action(
    local: Guard, wait: Handler, code: str
) -> None:
    decision, _ = held(local)
    rg = remote(waiting(decision, wait))
    rg.wait_for_review = 1.0
    returned = []
    with pytest.raises(RemoteError) as info:
        returned.append(rg.agent(lambda: {"kind": "pay", "params": {"amount": 900}})())
    assert info.value.code == code
    assert returned == []


def test_an_approval_of_the_held_decision_runs_it(local: Guard) -> None:
    decision, _ = held(local)
    rg = remote(waiting(decision, answer(200, approval(decision["id"]))))
    rg.wait_for_review = 1.0
    assert rg.agent(lambda: {"kind": "pay", "params": {"amount": 900}})()["params"] == {
        "amount": 900
    }


# The real sidecar: what it decides is always taken as a decision for the action sent.
SENT = [
    pytest.param({"kind": "pay", "actor": "a", "params": {"amount": 1}}, id="native"),
    pytest.param({"kind": "pay", "params": {"amount": 1.0, "t": (1, 2)}}, id="float-tuple"),
    pytest.param({"kind": "pay", "params": {"n": {"1": "é\u2028"}}}, id="unicode"),
    pytest.param(
        {"type": "function", "function": {"name": "pay", "arguments": '{"amount": 3}'}},
        id="tool-call",
    ),
    pytest.param({"kind": "run_shell", "params": {"cmd": "ls"}}, id="denied"),
]


@pytest.mark.parametrize("action", SENT)
@pytest.mark.parametrize("key", [None, "acme-agent"], ids=["open", "tenant-key"])
def test_the_real_sidecar_decisions_are_bound_to_the_actions_sent(
    keyed: Any,  # noqa: F811
    raw_keys: dict[str, str],  # noqa: F811
    action: dict[str, Any],
    key: str | None,
) -> None:
    gc = GuardClient("http://testserver", raw_keys[key or "admin"], client=keyed)
    decision = gc.check(action)
    assert decision.tenant == ("acme" if key else None)
    assert gc.check(None, candidates=[(action, 0.6), ({"kind": "pay"}, 0.4)]).action_digest
    assert len(gc.check_batch([action, action])) == 2
    ranked = gc.rank([{"id": 1, "score": 2}, {"id": "b", "score": 0.5, "x": [1.0]}], query="q")
    assert ranked.final_items is not None
