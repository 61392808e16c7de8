"""GET /v1/decisions/export under a failing audit log: an error answer when the first page
cannot be read; a stream that says it is incomplete and never ends when a later one cannot
(it was cut off with no marker, and the server logged an unrelated RuntimeError)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from tests.test_sweep10_console import _tamper
from tests.test_sweep11_console import _rows, serve  # noqa: F401 - fixture


def _auth(site: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {site['key']}"}


def test_a_log_failing_at_once_is_an_error_not_a_download(
    serve: Callable[..., dict[str, Any]],  # noqa: F811
) -> None:
    site = serve(_rows(30))
    _tamper(site["db"], "row-025", b"[1, 2]")
    r = httpx.get(f"{site['url']}/v1/decisions/export", headers=_auth(site))
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "audit_tampered"


def test_a_log_failing_later_ends_with_an_error_line_and_no_end(
    serve: Callable[..., dict[str, Any]],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("service._decisions.EXPORT_PAGE", 5)
    site = serve(_rows(30))
    _tamper(site["db"], "row-003", b"[1, 2]")
    received = b""
    url = f"{site['url']}/v1/decisions/export"
    with httpx.stream("GET", url, headers=_auth(site)) as r:
        assert r.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):  # the body never ends
            for chunk in r.iter_raw():
                received += chunk
    lines = received.splitlines()
    assert orjson.loads(lines[0])["id"] == "row-029"  # records came before the failure
    error = orjson.loads(lines[-1])["error"]
    assert error["code"] == "export_incomplete"
    assert error["details"] == {"cause": "audit_tampered"}
    assert "row-003" in error["message"]


def test_an_empty_export_is_an_empty_body(serve: Callable[..., dict[str, Any]]) -> None:  # noqa: F811
    site = serve([])
    r = httpx.get(
        f"{site['url']}/v1/decisions/export", params={"actor": "nobody"}, headers=_auth(site)
    )
    assert r.status_code == 200 and r.content == b""
