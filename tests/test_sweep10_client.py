"""RemoteGuard and GuardClient as a new user meets them, side by side with Guard: ranked
scores keep their type, page answers are checked, odd inputs get the in-process answers."""

from __future__ import annotations

import copy
import math
import pickle
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from guard import Guard, GuardError, InvalidAction
from guard.client import GuardClient, RemoteError, RemoteGuard
from tests.service.conftest import (  # noqa: F401 - fixtures
    client,
    make_client,
    pack_file,
    settings,
)
from tests.test_sweep8_client_parity import guards  # noqa: F401 - fixture
from tests.test_sweep8_client_shield import answering
from tests.test_sweep8_client_wait import counting

pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the 'timeout' argument with the TestClient"
)

Guards = tuple[Guard, RemoteGuard]


@pytest.mark.parametrize(
    "score",
    [3, 0, -7, 2**53 - 1, -(2**53 - 1), 3.0, 1.5, -0.0, 5e-324, 1e308, None],
    ids=repr,
)
def test_a_ranked_score_comes_back_as_given(guards: Guards, score: Any) -> None:  # noqa: F811
    for guard in guards:
        decision = guard.rank([{"id": 1, "score": score}, {"id": 2, "status": "suspended"}])
        assert decision.final_items == [{"id": 1, "score": score}]
        assert type(decision.final_items[0]["score"]) is type(score)


def test_the_ranker_decorator_keeps_integer_scores(guards: Guards) -> None:  # noqa: F811
    ranked = [{"id": "a", "score": 10}, {"id": "b", "score": 9.5}]
    for guard in guards:
        out = guard.ranker(lambda: ranked)()
        assert [type(i["score"]) for i in out] == [int, float]


@pytest.mark.parametrize("score", [True, False, "3", [1], {"v": 1}], ids=repr)
def test_a_score_that_is_not_a_number_is_refused_by_the_sidecar(
    guards: Guards,  # noqa: F811
    score: Any,
) -> None:
    with pytest.raises(RemoteError) as info:
        guards[1].rank([{"id": 1, "score": score}])
    assert (info.value.status, info.value.code) == (422, "validation_error")
    assert "body.items.0.score" in str(info.value)


POLICY = {
    "name": "svc-test",
    "version": 1,
    "digest": "sha256:00",
    "description": "",
    "rules": 5,
    "pii": False,
    "shadow": None,
}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="no-items"),
        pytest.param({"items": None}, id="items-null"),
        pytest.param({"items": "svc-test"}, id="items-a-string"),
        pytest.param({"items": {"name": "svc-test"}}, id="items-an-object"),
        pytest.param({"items": [3]}, id="item-not-an-object"),
        pytest.param({"items": [{**POLICY, "name": None}]}, id="no-name"),
        pytest.param({"items": [{"name": "svc-test"}]}, id="name-only"),
        pytest.param({"items": [{**POLICY, "digest": 7}]}, id="digest-a-number"),
        pytest.param({"items": [{**POLICY, "version": True}]}, id="version-a-boolean"),
        pytest.param({"items": [{**POLICY, "rules": "5"}]}, id="rules-a-string"),
        pytest.param({"items": [{**POLICY, "pii": 0}]}, id="pii-a-number"),
        pytest.param({"items": [{**POLICY, "shadow": 1}]}, id="shadow-a-number"),
    ],
)
def test_a_policies_answer_that_is_not_a_page_of_packs_is_refused(body: Any) -> None:
    with pytest.raises(RemoteError) as info:
        answering(body).client.policies()
    assert (info.value.status, info.value.code) == (200, "bad_response")
    assert "GET /v1/policies" in str(info.value) and "nothing is applied" in str(info.value)


def test_a_policies_answer_of_packs_is_taken() -> None:
    items = [POLICY, {**POLICY, "name": "b", "version": "2a", "shadow": "sha256:01"}]
    assert answering({"items": items, "next_cursor": None}).client.policies() == items


def held(status: str) -> dict[str, Any]:
    """An escalation as the sidecar lists it: pending, approved or denied."""
    outcome = {"approved": "approve", "denied": "deny"}.get(status)
    resolution = None if outcome is None else {"decision_id": "d1", "outcome": outcome}
    return {
        "decision_id": "d1",
        "status": status,
        "decision": {"id": "d1", "verdict": "escalate"},
        "resolution": resolution,
    }


@pytest.mark.parametrize(
    ("status", "body"),
    [
        pytest.param("pending", {"next_cursor": None}, id="no-items"),
        pytest.param("pending", {"items": {}, "next_cursor": None}, id="items-an-object"),
        pytest.param("pending", {"items": [held("pending")]}, id="no-next-cursor"),
        pytest.param("all", {"items": [], "next_cursor": 3}, id="cursor-a-number"),
        pytest.param("all", {"items": ["d1"], "next_cursor": None}, id="item-a-string"),
        pytest.param(
            "all", {"items": [{**held("pending"), "decision_id": 1}], "next_cursor": None}, id="id"
        ),
        pytest.param(
            "all", {"items": [{**held("pending"), "status": "open"}], "next_cursor": None}, id="st"
        ),
        pytest.param(
            "all", {"items": [{**held("pending"), "decision": None}], "next_cursor": None}, id="dec"
        ),
        pytest.param(
            "all",
            {"items": [{**held("pending"), "decision": {"id": "d2"}}], "next_cursor": None},
            id="decision-of-another-id",
        ),
        pytest.param(
            "all",
            {"items": [{**held("approved"), "resolution": None}], "next_cursor": None},
            id="approved-without-resolution",
        ),
        pytest.param(
            "all",
            {"items": [{**held("pending"), "resolution": {}}], "next_cursor": None},
            id="pending-with-resolution",
        ),
        pytest.param("pending", {"items": [held("approved")], "next_cursor": None}, id="asked-p"),
        pytest.param("resolved", {"items": [held("pending")], "next_cursor": None}, id="asked-r"),
    ],
)
def test_an_escalations_answer_that_is_not_a_page_of_them_is_refused(
    status: str, body: Any
) -> None:
    with pytest.raises(RemoteError) as info:
        answering(body).client.escalations(status)
    assert (info.value.status, info.value.code) == (200, "bad_response")
    assert "GET /v1/escalations" in str(info.value) and "nothing is applied" in str(info.value)


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        ("pending", ["pending"]),
        ("resolved", ["approved", "denied"]),
        ("all", ["pending", "denied"]),
    ],
)
def test_an_escalations_page_is_taken(status: str, shown: list[str]) -> None:
    page = {"items": [held(s) for s in shown], "next_cursor": "12"}
    assert answering(page).client.escalations(status) == page


@pytest.mark.parametrize("status", ["bogus", "Pending", "approved", "", None, 1, ["all"]], ids=repr)
def test_an_escalation_status_the_sidecar_does_not_read_is_refused_before_asking(
    status: Any,
) -> None:
    calls: list[str] = []
    with pytest.raises(InvalidAction, match=r"status must be 'pending', 'resolved' or 'all', got"):
        counting(calls).escalations(status)
    assert calls == []


def test_escalation_filters_left_out_are_not_sent(client: Any) -> None:  # noqa: F811
    gc = GuardClient("http://testserver", client=client)
    held_id = gc.check({"kind": "pay", "params": {"amount": 600}}).id
    for options in ({}, {"tenant": None}, {"cursor": None}, {"limit": None}, {"limit": 1}):
        page = gc.escalations("pending", **options)
        assert [e["decision_id"] for e in page["items"]] == [held_id], options
    gc.resolve(held_id, "approve")
    assert [e["status"] for e in gc.escalations("resolved")["items"]] == ["approved"]
    assert gc.escalations("all", limit=5)["items"][0]["decision_id"] == held_id
    assert gc.policies()[0]["name"] == "svc-test"


def pay(amount: Any) -> dict[str, Any]:
    return {"kind": "pay", "params": {"amount": amount}}


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    """The verdicts a call gave, or its error's type and message."""
    try:
        out = call()
    except GuardError as exc:
        return ("error", type(exc).__name__, str(exc))
    return ("ok", [d.verdict for d in (out if isinstance(out, list) else [out])])


@pytest.mark.parametrize(
    "actions",
    [
        pytest.param([], id="empty"),
        pytest.param("ab", id="string"),
        pytest.param(pay(1), id="one-mapping"),
        pytest.param(None, id="none"),
        pytest.param(3, id="number"),
        pytest.param([pay(1), pay(600)], id="two"),
    ],
)
def test_check_batch_gives_what_the_local_guard_gives(guards: Guards, actions: Any) -> None:  # noqa: F811
    local, remote = guards
    expected = outcome(lambda: local.check_batch(actions))
    assert outcome(lambda: remote.client.check_batch(actions)) == expected


def test_an_empty_batch_is_decided_without_asking() -> None:
    calls: list[str] = []
    assert counting(calls).check_batch([], {"role": "agent"}) == []
    assert calls == []


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda g: g.check(None), id="check-none"),
        pytest.param(lambda g: g.client.check(None), id="client-check-none"),
    ],
)
def test_a_check_of_nothing_is_refused_as_in_process(guards: Guards, call: Any) -> None:  # noqa: F811
    local, remote = guards
    assert outcome(lambda: call(remote)) == outcome(lambda: local.check(None))


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"candidates": []}, "candidates must hold at least one"),
        ({"action": pay(1), "candidates": [(pay(2), 0.5)]}, "an action or candidates, not both"),
    ],
)
def test_a_check_the_sidecar_cannot_read_is_refused_before_asking(
    options: dict[str, Any], says: str
) -> None:
    calls: list[str] = []
    with pytest.raises(InvalidAction, match=says):
        counting(calls).check(**options)
    assert calls == []


def test_a_closed_remote_guard_refuses_as_a_closed_guard_does(guards: Guards) -> None:  # noqa: F811
    local, _ = guards
    local.close()
    with pytest.raises(GuardError, match="this Guard is closed"):
        local.check(pay(1))
    with RemoteGuard("http://127.0.0.1:9") as remote:
        pass
    for call in (
        lambda: remote.check(pay(1)),
        lambda: remote.rank([{"id": 1}]),
        lambda: remote.allowed([pay(1)]),
        lambda: remote.agent(lambda: pay(1))(),
        lambda: remote.client.decisions(),
        lambda: remote.client.policies(),
    ):  # httpx's RuntimeError before, which is no GuardError
        with pytest.raises(GuardError, match="this client is closed: it sends nothing more"):
            call()
    remote.close()  # closing twice is harmless, as for Guard
    assert remote.client.ready() is False


@pytest.mark.parametrize("timeout", [0, -1, math.nan, math.inf, "5", True, None], ids=repr)
def test_a_timeout_that_is_not_seconds_is_refused_when_the_client_is_made(timeout: Any) -> None:
    for make in (GuardClient, RemoteGuard):
        with pytest.raises(InvalidAction, match=r"timeout must be a number of seconds > 0"):
            make("http://127.0.0.1:9", timeout=timeout)


@pytest.mark.parametrize("error", [httpx.DecodingError, httpx.TooManyRedirects])
def test_a_response_httpx_cannot_read_is_a_remote_error(error: type[Exception]) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise error("cannot read it", request=request)

    http = httpx.Client(base_url="http://sidecar", transport=httpx.MockTransport(handle))
    with pytest.raises(RemoteError) as info:
        RemoteGuard("", client=GuardClient("http://sidecar", client=http)).check(pay(1))
    assert (info.value.status, info.value.code) == (0, "connection_lost")
    assert error.__name__ in str(info.value) and "may have decided" in str(info.value)


@pytest.mark.parametrize("decision_id", ["", None, 3, ["d1"]], ids=repr)
def test_a_decision_id_that_names_no_decision_is_refused_before_asking(decision_id: Any) -> None:
    calls: list[str] = []
    gc = counting(calls)
    for call in (
        lambda: gc.decision(decision_id),
        lambda: gc.proof(decision_id),
        lambda: gc.resolve(decision_id, "approve"),
        lambda: gc.review(decision_id, "correct"),
        lambda: gc.wait_for_resolution(decision_id, 0),
    ):
        with pytest.raises(InvalidAction, match=r"decision_id must be a non-empty string, got"):
            call()
    assert calls == []


def test_an_empty_decision_id_does_not_list_every_decision(client: Any) -> None:  # noqa: F811
    gc = GuardClient("http://testserver", client=client)
    gc.check(pay(600))
    with pytest.raises(InvalidAction):
        gc.decision("")  # GET /v1/decisions/ answered the page of all decisions


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda gc: gc.resolve("d1", "maybe"), "outcome must be 'approve' or 'deny', got 'maybe'"),
        (lambda gc: gc.resolve("d1", None), "outcome must be 'approve' or 'deny', got None"),
        (
            lambda gc: gc.review("d1", "wrong"),
            "label must be 'correct', 'false_positive' or 'false_negative', got 'wrong'",
        ),
    ],
)
def test_a_review_value_the_sidecar_does_not_read_is_refused_before_asking(
    call: Any, says: str
) -> None:
    calls: list[str] = []
    with pytest.raises(InvalidAction, match=re.escape(says)):
        call(counting(calls))
    assert calls == []


@pytest.mark.parametrize(
    "key",
    ["gk_secret\n", "gk_secret\r\nX-Other: 1", "gk secret", "gk_sécret", b"gk_secret", 3],
    ids=repr,
)
def test_an_api_key_no_header_can_carry_is_refused_without_showing_it(key: Any) -> None:
    # Read from a file with its newline, it went out as far as httpx's LocalProtocolError,
    # whose message (a RemoteError's) held the key, saying the sidecar may have decided.
    for make in (GuardClient, RemoteGuard):
        with pytest.raises(InvalidAction, match="api_key must be a string of printable") as info:
            make("http://127.0.0.1:9", key)
        assert "secret" not in str(info.value)


def test_an_api_key_as_issued_is_sent() -> None:
    seen: list[str | None] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, json={"items": [], "next_cursor": None})

    http = httpx.Client(base_url="http://sidecar", transport=httpx.MockTransport(handle))
    for key in ("gk_A-b_9", "", None):
        GuardClient("http://sidecar", key, client=http).escalations()
    assert seen == ["Bearer gk_A-b_9", None, None]


def test_an_unreachable_sidecar_is_named_without_the_credentials_in_its_url() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    url = "http://user:s3cret@sidecar:8000/guard/?token=s3cret"
    http = httpx.Client(base_url=url, transport=httpx.MockTransport(refuse))
    with pytest.raises(RemoteError, match="sidecar_unreachable") as info:
        GuardClient(url, client=http).check(pay(1))
    assert "s3cret" not in str(info.value)
    assert "'http://sidecar:8000/guard/'" in str(info.value)


JSON = {"content-type": "application/json"}


def relabelled(client: Any, policy: str) -> GuardClient:  # noqa: F811
    """A sidecar that decides, then says it decided under `policy`."""

    def handle(request: httpx.Request) -> httpx.Response:
        answer = client.post(request.url.path, content=request.content, headers=JSON).json()
        for decision in answer["items"] if "next_cursor" in answer else [answer]:
            decision["policy"] = policy
        return httpx.Response(200, json=answer)

    http = httpx.Client(base_url="http://sidecar", transport=httpx.MockTransport(handle))
    return GuardClient("http://sidecar", client=http)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda gc: gc.check(pay(1), policy="svc-test"), id="check"),
        pytest.param(lambda gc: gc.check_batch([pay(1)], policy="svc-test"), id="batch"),
        pytest.param(
            lambda gc: gc.check(None, candidates=[(pay(1), 1.0)], policy="svc-test"), id="best"
        ),
        pytest.param(lambda gc: gc.rank([{"id": 1}], policy="svc-test"), id="rank"),
    ],
)
def test_a_decision_under_another_policy_than_asked_is_not_applied(
    client: Any,  # noqa: F811
    call: Any,
) -> None:
    with pytest.raises(RemoteError, match="under policy 'other', not 'svc-test'") as info:
        call(relabelled(client, "other"))
    assert (info.value.status, info.value.code) == (200, "decision_mismatch")
    call(relabelled(client, "svc-test"))  # the policy asked for is taken


@pytest.mark.parametrize("send", [pickle.dumps, copy.copy, copy.deepcopy])
def test_a_remote_guard_is_not_pickled_or_copied_as_a_guard_is_not(
    guards: Guards,  # noqa: F811
    send: Callable[[Any], Any],
) -> None:
    local, remote = guards
    with pytest.raises(TypeError, match="cannot be pickled or copied"):
        send(local)
    for sent in (remote, remote.client):  # "cannot pickle '_thread.RLock' object" before
        with pytest.raises(TypeError, match=r"cannot be pickled or copied.*RemoteGuard\(url"):
            send(sent)
    assert remote.check(pay(1)).verdict == "allow"  # still usable
