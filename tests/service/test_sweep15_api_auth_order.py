"""Sweep 15: a request's key is checked before its body is read, on every route.

POST /v1/check answered a request without a key 401 whatever its body; the other POST
routes answered a body that is not JSON 400 malformed_json before looking at the key
(FastAPI reads the body ahead of its dependencies), so a caller with no key, or one
without the scope, was told about its body rather than its key.
"""

from __future__ import annotations

import pytest

from tests.service.conftest import bearer

ROUTES = [
    ("/v1/check", "acme-agent", "acme-auditor"),
    ("/v1/check/batch", "acme-agent", "acme-auditor"),
    ("/v1/rank", "acme-agent", "acme-auditor"),
    ("/v1/shield", "acme-agent", "acme-auditor"),
    ("/v1/escalations/x/resolve", "acme-reviewer", "acme-agent"),
    ("/v1/decisions/x/review", "acme-reviewer", "acme-agent"),
]
BAD = [
    pytest.param(b"{bad", id="not-json"),
    pytest.param(b"caf\xe9", id="not-utf-8"),
    pytest.param(b"[" * 5000 + b"]" * 5000, id="too-deep"),
]


@pytest.mark.parametrize(("path", "allowed", "other"), ROUTES)
@pytest.mark.parametrize("body", BAD)
def test_no_key_is_401_whatever_the_body(keyed, path, allowed, other, body):
    response = keyed.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")
    response = keyed.post(
        path,
        content=body,
        headers={"content-type": "application/json", "Authorization": "Bearer nope"},
    )
    assert response.status_code == 401, response.text


@pytest.mark.parametrize(("path", "allowed", "other"), ROUTES)
@pytest.mark.parametrize("body", BAD)
def test_a_key_without_the_scope_is_403_whatever_the_body(
    keyed, raw_keys, path, allowed, other, body
):
    headers = {**bearer(raw_keys[other]), "content-type": "application/json"}
    response = keyed.post(path, content=body, headers=headers)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "missing_scope"


@pytest.mark.parametrize(("path", "allowed", "other"), ROUTES)
@pytest.mark.parametrize("body", BAD)
def test_a_key_with_the_scope_is_told_about_its_body(keyed, raw_keys, path, allowed, other, body):
    headers = {**bearer(raw_keys[allowed]), "content-type": "application/json"}
    response = keyed.post(path, content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "malformed_json"
