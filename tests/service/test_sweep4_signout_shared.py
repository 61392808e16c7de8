"""Signing out in one worker ends the session in every worker on the same audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from service import KeyStore
from service.ui._session import COOKIE
from tests.service._server import Sidecar
from tests.service.conftest import bearer
from tests.service.test_ui import csrf_of, login

SECRET = "one-secret-for-both-workers"


@pytest.mark.parametrize(
    ("signed_out", "status"),
    [
        pytest.param(True, 303, id="signed-out-cookie-refused-by-the-other-worker"),
        pytest.param(False, 200, id="signed-in-cookie-works-on-the-other-worker"),
    ],
)
def test_a_sign_out_holds_in_another_worker(
    make_client: Any, keys_file: Path, raw_keys: dict[str, str], signed_out: bool, status: int
) -> None:
    keys = KeyStore.from_file(keys_file)
    first = make_client(keys=keys, session_secret=SECRET)
    second = make_client(keys=keys, session_secret=SECRET)  # same settings: same audit log
    assert login(first, raw_keys["acme-reviewer"]).status_code == 303
    copied = first.cookies.get(COOKIE)
    if signed_out:
        page = first.get("/ui/decisions").text
        assert first.post("/ui/logout", data={"csrf": csrf_of(page)}).status_code == 200
    second.cookies.set(COOKIE, copied)
    assert second.get("/ui/decisions", follow_redirects=False).status_code == status


def test_the_sign_out_record_names_the_key_not_the_session(
    make_client: Any, keys_file: Path, raw_keys: dict[str, str]
) -> None:
    client = make_client(keys=KeyStore.from_file(keys_file), session_secret=SECRET)
    assert login(client, raw_keys["acme-reviewer"]).status_code == 303
    cookie = client.cookies.get(COOKIE)
    page = client.get("/ui/decisions").text
    client.post("/ui/logout", data={"csrf": csrf_of(page)})
    audit = client.app_state.audit
    record = audit.get_index(audit.size - 1).record
    assert record["schema_version"] == "guard.signout/v1"
    assert (record["key"], record["tenant"]) == ("acme-reviewer", "acme")
    assert csrf_of(page) not in str(record) and cookie not in str(record)
    # Not a decision: the API's decision list leaves it out.
    listed = client.get("/v1/decisions", headers=bearer(raw_keys["admin"])).json()["items"]
    assert all(item["id"] != record["id"] for item in listed)


def test_guard_serve_with_two_workers_refuses_a_signed_out_cookie(
    tmp_path: Path, pack_file: Path, keys_file: Path, raw_keys: dict[str, str]
) -> None:
    server = Sidecar(
        "--workers", "2", "--policy", str(pack_file), "--audit", f"sqlite:///{tmp_path}/a.db",
        "--keys", str(keys_file), log=tmp_path / "server.log",
    )  # fmt: skip
    try:
        server.wait_ready(timeout=120)
        with httpx.Client(base_url=server.url, timeout=30) as client:
            token = csrf_of(client.get("/ui/login").text)
            signed = {"key": raw_keys["acme-reviewer"], "csrf": token}
            r = client.post("/ui/login", data=signed, follow_redirects=True)
            assert r.status_code == 200 and "ui/logout" in r.text
            copied = client.cookies[COOKIE]
            client.post("/ui/logout", data={"csrf": csrf_of(r.text)})
        statuses = set()
        for _ in range(20):  # a new connection each time, so both workers answer some
            with httpx.Client(base_url=server.url, timeout=30) as fresh:
                fresh.cookies.set(COOKIE, copied)
                statuses.add(fresh.get("/ui/decisions", follow_redirects=False).status_code)
        assert statuses == {303}
    finally:
        server.stop()
