"""guard.client: GuardClient and RemoteGuard give the in-process semantics over HTTP."""

from __future__ import annotations

import threading
import time

import pytest

from guard import ActionBlocked, ActionEscalated, Guard, InvalidAction, PolicyNotFound
from guard.client import GuardClient, RemoteError, RemoteGuard
from tests.service.conftest import bearer, pay

# The client passes per-request timeouts (long-polls need them); the TestClient ignores them.
pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the 'timeout' argument with the TestClient"
)


@pytest.fixture
def remote(client):
    return GuardClient("http://testserver", client=client)


@pytest.fixture
def rguard(remote):
    return RemoteGuard("", client=remote)


def test_check_batch_rank_shield(remote):
    assert remote.check(pay(900)).verdict.value == "escalate"
    assert [d.verdict.value for d in remote.check_batch([pay(1), {"kind": "run_shell"}])] == [
        "allow",
        "deny",
    ]
    ranked = remote.rank([{"id": "a", "status": "suspended"}, {"id": "b"}], query="q")
    assert [i["id"] for i in ranked.final_items] == ["b"]
    assert remote.shield([pay(1), pay(900), pay(2)]) == [0, 2]


def test_reads_and_proofs(remote):
    d = remote.check(pay(1))
    assert remote.decision(d.id)["record"]["id"] == d.id
    assert remote.proof(d.id)["leaf_index"] == 0
    assert remote.head()["size"] == 1
    assert remote.decisions(verdict="allow")["items"][0]["id"] == d.id
    assert remote.consistency(0, 1)["second"] == 1
    assert remote.policies()[0]["name"] == "svc-test"


def test_errors_map_to_guard_exceptions(remote):
    with pytest.raises(PolicyNotFound):
        remote.check(pay(1), policy="nope")
    with pytest.raises(InvalidAction):
        remote.check({"type": "function", "function": {"name": "x", "arguments": "{bad"}})
    held = remote.check(pay(900))
    remote.resolve(held.id, "approve")
    with pytest.raises(RemoteError) as info:
        remote.resolve(held.id, "deny")
    assert (info.value.status, info.value.code) == (409, "already_resolved")


def test_remote_agent_substitutes_like_the_local_one(rguard, pack_file):
    def proposal(_obs):
        return [(pay(20000), 0.7), (pay(300), 0.3)]

    remote_action = rguard.agent(proposal)("inv-1")
    with Guard.from_policy(pack_file) as local:
        local_action = local.agent(proposal)("inv-1")
    assert remote_action == local_action == pay(300)
    assert remote_action.decision.substitution.chosen_index == 1
    assert remote_action.decision.substitution.reason == (local_action.decision.substitution.reason)


def test_remote_agent_blocks_and_escalates(rguard):
    with pytest.raises(ActionBlocked):
        rguard.agent(lambda: {"kind": "run_shell", "params": {}})()
    with pytest.raises(ActionEscalated) as info:
        rguard.agent(lambda: pay(900))()
    assert info.value.decision_id


def test_remote_agent_passes_context_and_policy(rguard):
    @rguard.agent(policy="svc-test", context=lambda note: {"note": note})
    def write(note):
        return {"kind": "note", "params": {"secret": note}}

    assert write("s3")["params"]["secret"] == "[REDACTED]"


def _resolve_later(client, outcome, delay=0.3):
    def run():
        time.sleep(delay)
        pending = client.get("/v1/escalations").json()["items"]
        client.post(
            f"/v1/escalations/{pending[0]['decision_id']}/resolve",
            json={"outcome": outcome, "reviewer": "ana"},
        )

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_wait_for_review_proceeds_on_approval(client, remote):
    g = RemoteGuard("", client=remote, wait_for_review=5)
    thread = _resolve_later(client, "approve")
    action = g.agent(lambda: pay(900))()
    thread.join()
    assert action == pay(900) and action.decision.verdict.value == "escalate"


def test_wait_for_review_blocks_on_denial(client, remote):
    g = RemoteGuard("", client=remote, wait_for_review=5)
    thread = _resolve_later(client, "deny")
    with pytest.raises(ActionBlocked, match="ana"):
        g.agent(lambda: pay(900))()
    thread.join()


def test_wait_for_review_times_out_as_escalated(remote):
    g = RemoteGuard("", client=remote)
    with pytest.raises(ActionEscalated, match="still held"):
        g.agent(wait_for_review=0.3)(lambda: pay(900))()


def test_wait_for_resolution_returns_none_when_pending(remote):
    held = remote.check(pay(900))
    assert remote.wait_for_resolution(held.id, 0.2) is None


def test_remote_ranker_and_allowed(rguard):
    @rguard.ranker
    def search(q):
        return [{"id": 1, "status": "suspended"}, {"id": 2}]

    kept = search("x")
    assert kept == [{"id": 2}] and kept.decision.items[0].rule_ids == ["drop-suspended"]
    assert rguard.allowed([pay(1), {"kind": "run_shell"}]) == [pay(1)]
    with pytest.raises(InvalidAction):
        rguard.ranker(lambda: {"id": 1})()


def test_api_key_is_sent(keyed, raw_keys):
    anonymous = GuardClient("http://testserver", client=keyed)
    with pytest.raises(RemoteError) as info:
        anonymous.check(pay(1))
    assert info.value.status == 401
    keyed.headers.update(bearer(raw_keys["acme-agent"]))
    assert GuardClient("http://testserver", client=keyed).check(pay(1)).tenant == "acme"
