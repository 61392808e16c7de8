"""RemoteGuard and the sidecar decide as the in-process Guard: rankings of items without
an id (known by their position), and substitutions over declared actions with masked
(-inf) scores, whose indices are the declared list's in the decision and its audit record."""

from __future__ import annotations

import math

import pytest

from guard import ActionBlocked, Guard, InvalidAction
from guard.client import GuardClient, RemoteError, RemoteGuard
from tests.service.conftest import pay

pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the 'timeout' argument with the TestClient"
)

INF = math.inf
SHELL = {"kind": "run_shell", "params": {}}  # denied by no-shell
HUGE = pay(20000)  # denied by huge-payment
SMALL = pay(5)  # allowed
HELD = pay(900)  # escalated by big-payment


@pytest.fixture
def remote(client):
    return GuardClient("http://testserver", client=client)


@pytest.fixture
def rguard(remote):
    return RemoteGuard("", client=remote)


@pytest.fixture
def local(pack_file):
    with Guard.from_policy(pack_file) as guard:
        yield guard


def _same(decision):
    """What must agree between an in-process decision and the sidecar's."""
    data = decision.model_dump(mode="json")
    keep = ("verdict", "hits", "items", "final_items", "final_action", "action_digest")
    return {k: data[k] for k in (*keep, "substitution")}


# -- rankings of items without an id -----------------------------------------------------------


RANKINGS = [
    pytest.param([{"name": "x", "status": "suspended"}, {"name": "y"}], id="no-ids"),
    pytest.param([{"id": "a", "status": "suspended"}, {"name": "y"}], id="some-ids"),
    pytest.param([{"name": "x", "score": 0.9}, {"name": "y", "score": 0.5}], id="scores"),
    pytest.param([{"status": "suspended"}], id="all-dropped"),
]


@pytest.mark.parametrize("items", RANKINGS)
def test_remote_ranker_ranks_items_without_ids_like_the_local_one(rguard, local, items):
    remote_kept = rguard.ranker(lambda: items)()
    local_kept = local.ranker(lambda: items)()
    assert remote_kept == local_kept
    assert _same(remote_kept.decision) == _same(local_kept.decision)


def test_rank_endpoint_knows_an_item_without_id_by_its_position(client):
    items = [{"name": "x", "status": "suspended"}, {"name": "y"}, {"id": "z"}]
    r = client.post("/v1/rank", json={"items": items})
    assert r.status_code == 200, r.text
    d = r.json()
    assert [(o["id"], o["rank"], o["verdict"]) for o in d["items"]] == [
        (0, 0, "deny"),
        (1, 1, "allow"),
        ("z", 2, "allow"),
    ]
    assert d["final_items"] == [{"name": "y"}, {"id": "z"}]  # no id added to the items


@pytest.mark.parametrize(
    "items",
    [
        pytest.param([{"id": None}], id="null-id"),
        pytest.param([{"id": 1}, {"name": "second"}], id="position-equals-an-id"),
    ],
)
def test_rank_endpoint_refuses_null_and_shared_ids(client, items):
    r = client.post("/v1/rank", json={"items": items})
    assert r.status_code == 422, r.text


# -- substitutions over declared actions with masked scores ----------------------------------

PROPOSALS = [
    pytest.param([SHELL, HUGE, SMALL], [-INF, 0.6, 0.4], id="masked-first"),
    pytest.param([HUGE, SHELL, SMALL, HELD], [0.6, -INF, 0.3, 0.1], id="masked-middle"),
    pytest.param([SMALL, HUGE, SHELL, HELD], [-INF, 0.7, -INF, 0.2], id="escalated-substitute"),
    pytest.param([SMALL, HUGE, SHELL, SMALL], [-INF, 0.5, 0.5, 0.5], id="ties"),
    pytest.param([SMALL, HUGE, SHELL], [0.1, 0.6, 0.3], id="nothing-masked"),
]


@pytest.mark.parametrize(("actions", "scores"), PROPOSALS)
def test_remote_substitution_indices_are_the_declared_ones(client, rguard, local, actions, scores):
    def policy():
        return scores

    outcomes = []
    for guard in (local, rguard):
        try:
            outcomes.append(guard.agent(actions=actions)(policy)().decision)
        except Exception as exc:  # an escalated substitute: the decision is on the exception
            outcomes.append(exc.decision)  # type: ignore[attr-defined]
    here, there = outcomes
    assert here.substitution is not None
    assert _same(there) == _same(here)
    record = client.get(f"/v1/decisions/{there.id}").json()["record"]
    assert record["substitution"] == here.model_dump(mode="json")["substitution"]


def test_remote_reports_every_declared_index_when_all_are_denied(client, rguard, local):
    actions, scores = [SMALL, SHELL, HUGE], [-INF, 0.3, 0.7]
    with pytest.raises(ActionBlocked) as here:
        local.agent(actions=actions)(lambda: scores)()
    with pytest.raises(ActionBlocked) as there:
        rguard.agent(actions=actions)(lambda: scores)()
    local_sub = here.value.decision.substitution
    assert (local_sub.original_index, [r["index"] for r in local_sub.rejected]) == (2, [2, 1])
    assert there.value.decision.substitution == local_sub
    record = client.get(f"/v1/decisions/{there.value.decision.id}").json()["record"]
    assert record["substitution"]["original_index"] == 2


def test_plain_pairs_keep_their_positions(client):
    body = {"candidates": [[HUGE, 0.6], [SMALL, 0.4]]}
    r = client.post("/v1/check", json=body)
    assert r.status_code == 200, r.text
    sub = r.json()["substitution"]
    assert (sub["original_index"], sub["chosen_index"]) == (0, 1)


def test_candidates_with_indices_report_them(client):
    body = {"candidates": [[HUGE, 0.6, 7], [SMALL, 0.4, 3]]}
    r = client.post("/v1/check", json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["final_action"]["params"] == SMALL["params"]
    sub = d["substitution"]
    assert (sub["original_index"], sub["chosen_index"]) == (7, 3)
    assert [row["index"] for row in sub["rejected"]] == [7]
    assert "alternative #3" in sub["reason"]


@pytest.mark.parametrize(
    ("candidates", "says"),
    [
        pytest.param([[HUGE, 0.6, 1], [SMALL, 0.4]], "or none", id="mixed"),
        pytest.param([[HUGE, 0.6, 1], [SMALL, 0.4, 1]], "unique", id="duplicate"),
        pytest.param([[HUGE, 0.6, -1], [SMALL, 0.4, 0]], "candidates", id="negative"),
        pytest.param([[HUGE, 0.6, 10_000], [SMALL, 0.4, 0]], "candidates", id="too-far"),
        pytest.param([[HUGE, 0.6, True], [SMALL, 0.4, 0]], "candidates", id="boolean"),
        pytest.param([[HUGE, 0.6, 1.0], [SMALL, 0.4, 0]], "candidates", id="float-index"),
    ],
)
def test_candidate_indices_are_checked(client, candidates, says):
    r = client.post("/v1/check", json={"candidates": candidates})
    assert r.status_code == 422, r.text
    assert says in r.text
    assert client.get("/v1/decisions").json()["items"] == []  # nothing recorded


def test_a_masked_score_sent_with_an_index_is_refused(client):
    raw = '{"candidates": [[{"kind": "pay", "params": {}}, -Infinity, 0]]}'
    r = client.post("/v1/check", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text


def test_client_checks_candidate_indices_before_sending(remote):
    for bad in [(SMALL, 0.5, -1), (SMALL, 0.5, True), (SMALL, 0.5, "1"), (SMALL,)]:
        with pytest.raises(InvalidAction, match="alternative #0"):
            remote.check(candidates=[bad])
    with pytest.raises(RemoteError) as info:  # the sidecar's own checks still apply
        remote.check(candidates=[(SMALL, 0.5, 0), (HUGE, 0.4)])
    assert info.value.status == 422
