"""Human review: the escalation queue, one resolution per hold, long-poll waits, labels."""

from __future__ import annotations

import json
import threading
import time

import anyio
import pytest

from service import ServiceState
from service._errors import AlreadyResolved
from service._state import RESOLUTION_SCHEMA, REVIEW_SCHEMA
from tests.service.conftest import pay


def _held(client, amount=900):
    d = client.post("/v1/check", json={"action": pay(amount)}).json()
    assert d["verdict"] == "escalate"
    return d["id"]


def test_pending_queue_lists_unresolved_holds_newest_first(client):
    first, second = _held(client), _held(client)
    client.post("/v1/check", json={"action": pay(1)})
    page = client.get("/v1/escalations").json()
    assert [e["decision_id"] for e in page["items"]] == [second, first]
    assert all(e["status"] == "pending" and e["resolution"] is None for e in page["items"])
    client.post(f"/v1/escalations/{first}/resolve", json={"outcome": "approve"})
    assert [e["decision_id"] for e in client.get("/v1/escalations").json()["items"]] == [second]
    resolved = client.get("/v1/escalations", params={"status": "resolved"}).json()["items"]
    assert [(e["decision_id"], e["status"]) for e in resolved] == [(first, "approved")]
    every = client.get("/v1/escalations", params={"status": "all"}).json()["items"]
    assert [e["status"] for e in every] == ["pending", "approved"]


def test_pending_pages_follow_the_cursor(client):
    held = [_held(client) for _ in range(5)]
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/escalations", params=params).json()
        seen += [e["decision_id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == held[::-1]


def test_resolve_writes_an_audit_record_and_replay_is_409(client):
    held = _held(client)
    r = client.post(
        f"/v1/escalations/{held}/resolve",
        json={"outcome": "deny", "note": "not this week", "reviewer": "ana"},
    )
    assert r.status_code == 200
    record = r.json()
    assert record["schema_version"] == RESOLUTION_SCHEMA and record["decision_id"] == held
    assert (record["outcome"], record["reviewer"], record["note"]) == (
        "deny",
        "ana",
        "not this week",
    )
    again = client.post(f"/v1/escalations/{held}/resolve", json={"outcome": "approve"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_resolved"
    assert again.json()["error"]["details"]["outcome"] == "deny"


def test_resolutions_are_queryable_by_decision_id(client):
    held = _held(client)
    client.post(f"/v1/escalations/{held}/resolve", json={"outcome": "approve"})
    page = client.app_state.audit.query(record_type=RESOLUTION_SCHEMA, ref_id=held)
    assert [s.record["outcome"] for s in page.items] == ["approve"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        pytest.param({"outcome": "maybe"}, 422, "validation_error", id="bad-outcome"),
        pytest.param({}, 422, "validation_error", id="no-outcome"),
        pytest.param({"outcome": "approve", "note": 5}, 422, "validation_error", id="note-type"),
    ],
)
def test_bad_resolutions_are_422(client, body, status, code):
    held = _held(client)
    r = client.post(f"/v1/escalations/{held}/resolve", json=body)
    assert r.status_code == status and r.json()["error"]["code"] == code


def test_resolving_a_decision_that_was_not_held_is_409(client):
    d = client.post("/v1/check", json={"action": pay(1)}).json()
    r = client.post(f"/v1/escalations/{d['id']}/resolve", json={"outcome": "approve"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_escalated"


def test_resolving_an_unknown_id_is_404(client):
    r = client.post("/v1/escalations/nope/resolve", json={"outcome": "approve"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "decision_not_found"


def test_wait_returns_a_resolution_at_once(client):
    held = _held(client)
    client.post(f"/v1/escalations/{held}/resolve", json={"outcome": "approve"})
    r = client.get(f"/v1/escalations/{held}/wait", params={"timeout": 5})
    assert r.status_code == 200
    assert r.json()["status"] == "approved" and r.json()["resolution"]["outcome"] == "approve"


def test_expired_wait_is_408_with_status_pending(client):
    held = _held(client)
    started = time.monotonic()
    r = client.get(f"/v1/escalations/{held}/wait", params={"timeout": 0.2})
    assert 0.15 < time.monotonic() - started < 3
    assert r.status_code == 408
    assert r.json()["error"]["code"] == "wait_expired"
    assert r.json()["error"]["details"]["status"] == "pending"


def test_wait_longer_than_the_maximum_is_422(client):
    held = _held(client)
    r = client.get(f"/v1/escalations/{held}/wait", params={"timeout": 999})
    assert r.status_code == 422


def test_wait_on_a_decision_not_held_is_409(client):
    d = client.post("/v1/check", json={"action": pay(1)}).json()
    assert client.get(f"/v1/escalations/{d['id']}/wait").status_code == 409


def test_a_resolution_wakes_a_waiter_in_the_same_process_at_once(make_client):
    client = make_client(poll_interval=30.0)  # so only the in-process event can wake it
    held = _held(client)
    result = {}

    def waiter():
        started = time.monotonic()
        result["response"] = client.get(f"/v1/escalations/{held}/wait", params={"timeout": 5})
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.3)
    client.post(f"/v1/escalations/{held}/resolve", json={"outcome": "deny"})
    thread.join(10)
    assert result["response"].json()["status"] == "denied"
    assert result["seconds"] < 2


def test_processes_sharing_a_database_share_the_queue(settings):
    """Two states on one SQLite log stand in for two server processes."""
    a, b = ServiceState.build(settings), ServiceState.build(settings)
    try:
        held = a.guard.check(pay(900)).id
        assert [r["id"] for r in b.escalations.pending(None)] == [held]

        async def wait_in_b():
            return await b.escalations.wait(held, 5.0)

        async def main():
            async with anyio.create_task_group() as tg:
                results = {}

                async def run():
                    results["res"] = await wait_in_b()

                tg.start_soon(run)
                await anyio.sleep(0.2)
                await anyio.to_thread.run_sync(
                    a.escalations.resolve, held, "approve", "", "ana", None
                )
            return results["res"]

        started = time.monotonic()
        resolution = anyio.run(main)
        assert resolution["outcome"] == "approve" and time.monotonic() - started < 3
        assert b.escalations.pending(None) == []
        with pytest.raises(AlreadyResolved):
            b.escalations.resolve(held, "deny", "", "bo", None)
    finally:
        a.close()
        b.close()


def test_a_racing_second_resolution_is_refused_by_the_log(settings, monkeypatch):
    a, b = ServiceState.build(settings), ServiceState.build(settings)
    try:
        held = a.guard.check(pay(900)).id
        a.escalations.resolve(held, "approve", "", "ana", None)
        calls = []
        original = b.escalations._refuse_replay

        def late_check(decision_id):  # b checked before a wrote: the first check passes
            calls.append(decision_id)
            if len(calls) > 1:
                original(decision_id)

        monkeypatch.setattr(b.escalations, "_refuse_replay", late_check)
        with pytest.raises(AlreadyResolved):
            b.escalations.resolve(held, "deny", "", "bo", None)
        page = a.audit.query(record_type=RESOLUTION_SCHEMA, ref_id=held)
        assert [s.record["outcome"] for s in page.items] == ["approve"]
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("label", ["correct", "false_positive", "false_negative"])
def test_labels_are_review_records(client, label):
    d = client.post("/v1/check", json={"action": pay(1)}).json()
    r = client.post(f"/v1/decisions/{d['id']}/review", json={"label": label, "note": "checked"})
    assert r.status_code == 200
    record = r.json()
    assert record["schema_version"] == REVIEW_SCHEMA and record["decision_id"] == d["id"]
    assert record["label"] == label and record["reviewer"] == "open-access"
    page = client.app_state.audit.query(record_type=REVIEW_SCHEMA, ref_id=d["id"])
    assert [s.id for s in page.items] == [record["id"]]


def test_bad_label_is_422_and_unknown_decision_404(client):
    d = client.post("/v1/check", json={"action": pay(1)}).json()
    r = client.post(f"/v1/decisions/{d['id']}/review", json={"label": "meh"})
    assert r.status_code == 422
    r = client.post("/v1/decisions/nope/review", json={"label": "correct"})
    assert r.status_code == 404


def test_notes_lose_their_personal_data_and_the_key_is_recorded(client):
    held = _held(client)
    note = "customer Maria Gonzalez at maria.g@gmail.com, card 4111 1111 1111 1111, refund ok"
    r = client.post(
        f"/v1/escalations/{held}/resolve",
        json={"outcome": "approve", "note": note, "reviewer": "ana"},
    )
    record = r.json()
    assert "maria.g@gmail.com" not in record["note"] and "4111" not in record["note"]
    assert "Maria Gonzalez" not in record["note"] and "refund ok" in record["note"]
    assert record["reviewer"] == "ana" and record["key"]
    label = client.post(
        f"/v1/decisions/{held}/review",
        json={"label": "correct", "note": "call +1 416 555 0199 or maria.g@gmail.com"},
    ).json()
    assert "maria.g@gmail.com" not in label["note"] and label["key"]
    stored = [
        s.record for s in client.app.state.guard_state.audit.query(ref_id=held, limit=10).items
    ]
    assert stored and all("maria.g@gmail.com" not in json.dumps(r) for r in stored)


def test_a_note_that_cannot_be_scanned_is_withheld(monkeypatch):
    from service import _notes

    masker = _notes.NoteMasker()
    monkeypatch.setattr(masker, "_get", lambda: (_ for _ in ()).throw(RuntimeError("no NLP")))
    assert masker("mail me at jo@example.com") == _notes.WITHHELD
    assert masker("   ") == "   "
