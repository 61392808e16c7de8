"""POST /v1/check, /v1/check/batch, /v1/rank, /v1/shield: decisions and their errors."""

from __future__ import annotations

import json

import pytest

from tests.service.conftest import pay


def test_check_native_action_returns_the_recorded_decision(client):
    r = client.post("/v1/check", json={"action": pay(700)})
    assert r.status_code == 200
    d = r.json()
    assert d["verdict"] == "escalate" and d["audited"] is True
    assert [h["rule_id"] for h in d["hits"]] == ["big-payment"]
    assert client.get(f"/v1/decisions/{d['id']}").status_code == 200


def test_check_accepts_an_openai_tool_call(client):
    call = {"type": "function", "function": {"name": "run_shell", "arguments": '{"cmd": "ls"}'}}
    d = client.post("/v1/check", json={"action": call}).json()
    assert d["kind"] == "run_shell" and d["verdict"] == "deny"


def test_check_with_candidates_substitutes_the_best_allowed(client):
    body = {"candidates": [[pay(20000), 0.6], [{"kind": "run_shell"}, 0.3], [pay(50), 0.1]]}
    d = client.post("/v1/check", json=body).json()
    assert d["verdict"] == "allow"
    assert d["substitution"]["chosen_index"] == 2
    assert d["final_action"]["params"]["amount"] == 50
    record = client.get(f"/v1/decisions/{d['id']}").json()["record"]
    assert record["substitution"]["chosen_index"] == 2


def test_check_with_all_candidates_denied_records_the_first(client):
    body = {"candidates": [[pay(20000), 0.6], [{"kind": "run_shell"}, 0.4]]}
    d = client.post("/v1/check", json=body).json()
    assert d["verdict"] == "deny" and d["substitution"]["chosen_index"] == -1


def test_redaction_comes_back_without_the_secret(client):
    d = client.post("/v1/check", json={"action": {"kind": "note", "params": {"secret": "s3"}}})
    assert d.json()["final_action"]["params"]["secret"] == "[REDACTED]"


def test_batch_decides_in_order(client):
    r = client.post("/v1/check/batch", json={"actions": [pay(1), pay(900), {"kind": "run_shell"}]})
    assert r.status_code == 200
    page = r.json()
    assert [d["verdict"] for d in page["items"]] == ["allow", "escalate", "deny"]
    assert page["next_cursor"] is None


def test_rank_drops_items_with_reasons(client):
    items = [{"id": "a", "score": 0.9, "status": "suspended"}, {"id": "b", "score": 0.5}]
    d = client.post("/v1/rank", json={"items": items, "query": "plumber"}).json()
    assert [i["id"] for i in d["final_items"]] == ["b"]
    assert d["items"][0]["rule_ids"] == ["drop-suspended"]
    assert d["items"][0]["reason"] == "suspended seller"


def test_shield_returns_allowed_indexes_and_records_nothing(client):
    size = client.get("/v1/audit/head").json()["size"]
    r = client.post("/v1/shield", json={"actions": [pay(1), {"kind": "run_shell"}, pay(600)]})
    assert r.json()["allowed"] == [0]
    assert [i["verdict"] for i in r.json()["items"]] == ["allow", "deny", "escalate"]
    assert client.get("/v1/audit/head").json()["size"] == size


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        pytest.param(b"{not json", 400, "malformed_json", id="malformed-json"),
        pytest.param(b'{"action": {"kind": 7}}', 422, "validation_error", id="wrong-type"),
        pytest.param(b'{"action": "pay"}', 422, "validation_error", id="action-not-object"),
        pytest.param(
            b'{"action": {"kind": "x"}, "extra": 1}', 422, "validation_error", id="unknown-field"
        ),
        pytest.param(b"{}", 422, "invalid_action", id="no-action"),
        pytest.param(
            b'{"policy": "nope", "action": {"kind": "x"}}',
            404,
            "policy_not_found",
            id="unknown-policy",
        ),
        pytest.param(
            b'{"candidates": [[{"kind": "x"}, "high"]]}',
            422,
            "validation_error",
            id="probability-not-number",
        ),
        pytest.param(
            json.dumps(
                {"action": {"type": "function", "function": {"name": "x", "arguments": "{oops"}}}
            ).encode(),
            422,
            "invalid_action",
            id="tool-arguments-not-json",
        ),
        pytest.param(
            b'{"action": {"kind": "x", "params": {"n": 123456789012345678901234}}}',
            422,
            "invalid_action",
            id="integer-out-of-range",
        ),
        pytest.param(
            b'{"action": {"kind": "x", "params": {"n": 9007199254740993}}}',
            422,
            "invalid_action",
            id="integer-beyond-json-doubles",
        ),
        pytest.param(
            json.dumps(
                {
                    "action": {
                        "type": "function",
                        "function": {"name": "x", "arguments": '{"n": 9007199254740993}'},
                    }
                }
            ).encode(),
            422,
            "invalid_action",
            id="tool-argument-beyond-json-doubles",
        ),
    ],
)
def test_bad_input_gets_the_right_4xx_and_code(client, body, status, code):
    r = client.post("/v1/check", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status
    assert r.json()["error"]["code"] == code
    assert set(r.json()["error"]) == {"code", "message", "details"}


def test_validation_errors_never_echo_the_input(client):
    r = client.post("/v1/check", json={"action": {"kind": ["jo@example.com"]}})
    assert r.status_code == 422 and "jo@example.com" not in r.text


def test_oversized_body_is_413(make_client):
    c = make_client(max_body_bytes=1000)
    r = c.post("/v1/check", json={"action": pay(1, note="x" * 2000)})
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"


def test_oversized_chunked_body_is_413(make_client):
    c = make_client(max_body_bytes=1000)

    def chunks():
        yield b'{"action": {"kind": "pay", "params": {"note": "'
        for _ in range(20):
            yield b"x" * 100
        yield b'"}}}'

    r = c.post("/v1/check", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"


def test_long_text_is_413(make_client):
    c = make_client(max_text_chars=100)
    r = c.post("/v1/check", json={"action": pay(1, note="y" * 101)})
    assert r.status_code == 413 and r.json()["error"]["code"] == "text_too_large"


def test_several_packs_need_a_policy_name(make_client, tmp_path, pack_file):
    other = tmp_path / "other.yaml"
    other.write_text("name: other\nversion: 2\nrules: []\n", encoding="utf-8")
    c = make_client(policy=str(tmp_path))
    r = c.post("/v1/check", json={"action": pay(1)})
    assert r.status_code == 422 and r.json()["error"]["code"] == "policy_required"
    assert c.post("/v1/check", json={"policy": "other", "action": pay(1)}).json()["policy"] == (
        "other"
    )


def test_unknown_route_and_method_use_the_error_shape(client):
    assert client.get("/v1/nothing").json()["error"]["code"] == "not_found"
    r = client.get("/v1/check")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


def test_caller_explanations_are_recorded_with_the_decision(client):
    rationale = {"kind": "rationale", "chosen": 1, "text": "chose 1 over 0", "actions": []}
    body = {
        "candidates": [[{"kind": "run_shell"}, 0.7], [pay(50), 0.3]],
        "context": {"rationale": {"visit_share": 0.3}},
        "explanations": [rationale],
    }
    r = client.post("/v1/check", json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["substitution"]["chosen_index"] == 1
    assert d["explanations"] == [rationale]
    stored = client.get(f"/v1/decisions/{d['id']}").json()
    assert stored["record"]["explanations"] == [rationale]


def test_explanations_with_a_single_action(client):
    body = {"action": pay(50), "explanations": [{"kind": "attribution", "values": [0.1]}]}
    r = client.post("/v1/check", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["explanations"][0]["kind"] == "attribution"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
@pytest.mark.parametrize("path", ["/v1/check", "/v1/shield", "/v1/check/batch"])
def test_non_finite_numbers_in_the_body_are_refused_not_recorded_as_null(client, path, number):
    action = '{"kind": "pay", "params": {"amount": %s}}' % number
    body = {
        "/v1/check": '{"action": %s}',
        "/v1/shield": '{"actions": [%s]}',
        "/v1/check/batch": '{"actions": [%s]}',
    }[path] % action
    r = client.post(path, content=body, headers={"content-type": "application/json"})
    assert r.status_code in (400, 422), r.text
    assert "finite" in r.text or r.json()["error"]["code"] == "malformed_json"
    assert client.get("/v1/decisions").json()["items"] == []


def test_deeply_nested_tool_call_arguments_are_a_4xx_not_a_500(client):
    arguments = '{"x":' + "[" * 2000 + "]" * 2000 + "}"
    call = {"type": "function", "function": {"name": "x", "arguments": arguments}}
    for path, body in [
        ("/v1/check", {"action": call}),
        ("/v1/check/batch", {"actions": [call]}),
        ("/v1/shield", {"actions": [call]}),
    ]:
        r = client.post(path, json=body)
        assert r.status_code == 422, (path, r.text)
        assert r.json()["error"]["code"] == "invalid_action"


def test_action_and_candidates_together_are_refused(client):
    body = {"action": {"kind": "x"}, "candidates": [[pay(50), 0.5]]}
    r = client.post("/v1/check", json=body)
    assert r.status_code == 422
    assert "not both" in r.text


@pytest.mark.parametrize("bad", [True, 1.5, None, [1]])
def test_rank_item_ids_are_strings_or_integers(client, bad):
    r = client.post("/v1/rank", json={"items": [{"id": bad, "score": 1}]})
    assert r.status_code == 422, r.text


def test_booleans_are_not_scores_or_probabilities(client):
    r = client.post("/v1/rank", json={"items": [{"id": 1, "score": True}]})
    assert r.status_code == 422, r.text
    r = client.post("/v1/check", json={"candidates": [[pay(5), True]]})
    assert r.status_code == 422, r.text
    ok = client.post("/v1/rank", json={"items": [{"id": 1, "score": 2}]})
    assert ok.status_code == 200
