"""An escalation the sidecar answers without the action to run is refused, even once a
reviewer approves it: the approved action is the decision's, never an empty one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from guard import ActionEscalated, Guard
from guard.client import GuardClient, RemoteError, RemoteGuard

PACK = """\
name: t
version: 1
defaults: {verdict: allow, on_error: deny}
rules:
  - id: big
    match: {kind: pay}
    when: params.amount > 500
    effect: escalate
"""

HELD = {"kind": "pay", "params": {"amount": 900}}


@pytest.fixture
def escalated(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "t.yaml"
    path.write_text(PACK, encoding="utf-8")
    with Guard.from_policy(path) as local:
        return local.check(HELD).model_dump(mode="json")


def sidecar(decision: dict[str, Any], wait: float | None) -> RemoteGuard:
    """A fake sidecar answering `decision`, and its approval to a long-poll."""
    approved = {"decision_id": decision["id"], "outcome": "approve", "reviewer": "r"}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/wait"):
            body = {"decision_id": decision["id"], "status": "approved", "resolution": approved}
            return httpx.Response(200, json=body)
        return httpx.Response(200, json=decision)

    http = httpx.Client(base_url="http://sidecar", transport=httpx.MockTransport(handle))
    return RemoteGuard("", client=GuardClient("http://sidecar", client=http), wait_for_review=wait)


@pytest.mark.parametrize("wait", [None, 1.0], ids=["no-wait", "approved"])
def test_an_escalation_without_final_action_is_a_bad_response(
    escalated: dict[str, Any], wait: float | None
) -> None:
    returned = []
    with pytest.raises(RemoteError) as info:
        returned.append(sidecar({**escalated, "final_action": None}, wait).agent(lambda: HELD)())
    assert (info.value.code, returned) == ("bad_response", [])
    assert "an escalate without a final_action" in str(info.value)


def test_an_escalation_with_its_action_is_held_then_run_on_approval(
    escalated: dict[str, Any],
) -> None:
    with pytest.raises(ActionEscalated):
        sidecar(escalated, None).agent(lambda: HELD)()
    assert sidecar(escalated, 1.0).agent(lambda: HELD)() == HELD
