"""API paths with a trailing slash, and HEAD on the health probes.

Before: `POST /v1/check/` (any API path sent with a trailing slash) got Starlette's
`307` with an empty body and an absolute Location built from the Host header, not the
API's error shape; and `HEAD /healthz`, `HEAD /readyz` (what uptime checkers and load
balancers send) answered `405`.

Chosen: an API path with a trailing slash is `404 not_found` in the error shape, telling
the caller to drop the slash (details `trailing_slash: true`), whatever the method and
before any key is asked for (as for any unknown path). A client that wrote the slash learns
it at once; serving it as the bare path would give every resource two addresses. The
console's `/ui` -> `/ui/` redirect is untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from service import KeyStore
from tests.service._server import Sidecar
from tests.service.conftest import bearer, pay


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/check/"),
        ("POST", "/v1/check/batch/"),
        ("GET", "/v1/decisions/"),
        ("GET", "/v1/policies/"),
        ("GET", "/v1/audit/head/"),
        ("GET", "/v1/"),
        ("GET", "/healthz/"),
        ("GET", "/metrics/"),
        ("POST", "/v1/check//"),
    ],
)
def test_an_api_path_with_a_trailing_slash_is_a_404_in_the_error_shape(
    client: Any, method: str, path: str
) -> None:
    body = {"action": pay(1)} if method == "POST" else None
    r = client.request(method, path, json=body, follow_redirects=False)
    assert r.status_code == 404, (path, r.status_code, r.headers)
    assert "location" not in r.headers
    error = r.json()["error"]
    assert error["code"] == "not_found"
    assert "trailing slash" in error["message"]
    assert error["details"] == {"trailing_slash": True}


def test_the_slash_is_refused_before_the_key_and_records_nothing(
    make_client: Callable[..., Any], keys_file: Any, raw_keys: dict[str, str]
) -> None:
    keyed = make_client(keys=KeyStore.from_file(keys_file))
    size = keyed.app_state.audit.size
    for headers in ({}, bearer(raw_keys["acme-agent"])):
        r = keyed.post("/v1/check/", json={"action": pay(1)}, headers=headers)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert keyed.app_state.audit.size == size
    # The path without the slash still decides.
    ok = keyed.post("/v1/check", json={"action": pay(1)}, headers=bearer(raw_keys["acme-agent"]))
    assert ok.status_code == 200 and ok.json()["verdict"] == "allow"


def test_the_console_still_redirects_to_its_slash(client: Any) -> None:
    r = client.get("/ui", follow_redirects=False)
    assert r.status_code in (307, 308) and r.headers["location"].endswith("/ui/")


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_head_on_a_probe_answers_as_get_without_a_body(client: Any, path: str) -> None:
    got = client.get(path)
    head = client.head(path)
    assert got.status_code == head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert int(head.headers["content-length"]) == len(got.content)


def test_head_readyz_is_503_when_the_audit_log_is_down(client: Any) -> None:
    client.app_state.audit.close()
    assert client.get("/readyz").status_code == 503
    head = client.head("/readyz")
    assert head.status_code == 503 and head.content == b""


def test_head_on_the_real_server(tmp_path: Any, pack_file: Any) -> None:
    sidecar = Sidecar("--policy", str(pack_file), "--audit", f"sqlite:///{tmp_path / 'a.db'}")
    try:
        sidecar.wait_ready()
        for path in ("/healthz", "/readyz"):
            r = httpx.head(sidecar.url + path)
            assert r.status_code == 200 and r.content == b"", path
        r = httpx.post(sidecar.url + "/v1/check/", json={"action": pay(1)})
        assert r.status_code == 404 and r.json()["error"]["details"] == {"trailing_slash": True}
    finally:
        sidecar.stop()


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        # Before: Allow named the first route's methods only (GET, without the HEAD of the
        # probes' twin routes; GET for /ui/login, which takes POST too), and the message
        # said only "Method Not Allowed".
        ("POST", "/healthz", ["GET", "HEAD"]),
        ("DELETE", "/readyz", ["GET", "HEAD"]),
        ("DELETE", "/ui/login", ["GET", "POST"]),
        ("GET", "/v1/check", ["POST"]),
        ("PUT", "/v1/decisions/some-id", ["GET"]),
    ],
)
def test_a_405_names_every_method_the_path_takes(
    client: Any, method: str, path: str, allowed: list[str]
) -> None:
    r = client.request(method, path, follow_redirects=False)
    assert r.status_code == 405
    assert r.headers["allow"] == ", ".join(allowed)
    error = r.json()["error"]
    assert error["code"] == "method_not_allowed"
    assert error["details"] == {"allowed": allowed}
    assert ", ".join(allowed) in error["message"]


def test_a_literal_path_is_not_taken_for_a_parameter(client: Any) -> None:
    # /v1/policies/reload is the reload (POST); GET /v1/policies/{name} also matches it
    # as a pattern, but Allow lists what the documented resource takes.
    r = client.request("PUT", "/v1/policies/reload")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
