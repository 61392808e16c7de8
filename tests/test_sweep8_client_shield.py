"""GuardClient.shield and RemoteGuard.allowed take only an answer with one verdict per action
sent, in order, whose `allowed` indexes are the ones those verdicts allow."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from guard.client import GuardClient, RemoteError, RemoteGuard
from tests.service.conftest import (  # noqa: F401 - fixtures
    client,
    make_client,
    pack_file,
    settings,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the 'timeout' argument with the TestClient"
)

ACTIONS = [{"kind": "pay", "params": {"amount": 1}}, {"kind": "run_shell", "params": {}}]


def verdict(index: Any, allowed: bool) -> dict[str, Any]:
    return {
        "index": index,
        "verdict": "allow" if allowed else "deny",
        "allowed": allowed,
        "rule_ids": [],
        "hits": [],
    }


ITEMS = [verdict(0, True), verdict(1, False)]


def answering(body: Any) -> RemoteGuard:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    http = httpx.Client(base_url="http://sidecar", transport=httpx.MockTransport(handle))
    return RemoteGuard("", client=GuardClient("http://sidecar", client=http))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"allowed": [-1], "items": ITEMS}, id="negative-index"),
        pytest.param({"allowed": [0, 1], "items": ITEMS}, id="a-denied-index"),
        pytest.param({"allowed": [5], "items": ITEMS}, id="out-of-range"),
        pytest.param({"allowed": ["0"], "items": ITEMS}, id="string-index"),
        pytest.param({"allowed": [0, 0], "items": ITEMS}, id="repeated"),
        pytest.param({"allowed": None, "items": ITEMS}, id="no-list"),
        pytest.param({"items": ITEMS}, id="no-allowed"),
        pytest.param({"allowed": [0]}, id="no-items"),
        pytest.param({"allowed": [0], "items": ITEMS[:1]}, id="short"),
        pytest.param({"allowed": [0], "items": ITEMS[::-1]}, id="out-of-order"),
        pytest.param({"allowed": [0], "items": [ITEMS[0], 3]}, id="not-an-object"),
    ],
)
def test_a_shield_answer_that_does_not_fit_the_actions_sent_is_refused(body: Any) -> None:
    rg = answering(body)
    for call in (lambda: rg.allowed(ACTIONS), lambda: rg.client.shield_verdicts(ACTIONS)):
        with pytest.raises(RemoteError) as info:
            call()
        assert (info.value.status, info.value.code) == (200, "bad_response")
        assert "POST /v1/shield" in str(info.value)


def test_a_fitting_shield_answer_is_taken() -> None:
    rg = answering({"allowed": [0], "items": ITEMS, "next_cursor": None})
    assert rg.allowed(ACTIONS) == ACTIONS[:1]
    assert rg.client.shield_verdicts(ACTIONS) == ITEMS


def test_the_real_sidecar_answer_is_taken(client: Any) -> None:  # noqa: F811
    rg = RemoteGuard("", client=GuardClient("http://testserver", client=client))
    assert rg.allowed(ACTIONS) == ACTIONS[:1]
    assert rg.allowed([]) == []
    assert [v["verdict"] for v in rg.client.shield_verdicts(ACTIONS)] == ["allow", "deny"]
