"""An unknown pack gets the in-process Guard's words through the sidecar too: which pack,
and which are loaded (the sidecar said only 'no loaded policy named ...')."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from guard import Guard, PolicyError


def test_unknown_pack_message_matches_in_process(client: TestClient, pack_file: object) -> None:
    with Guard.from_policy(str(pack_file)) as g, pytest.raises(PolicyError) as local:
        g.check({"kind": "pay"}, policy="nope")
    for method, url, body in [
        ("POST", "/v1/check", {"policy": "nope", "action": {"kind": "pay"}}),
        ("GET", "/v1/policies/nope", None),
    ]:
        r = client.request(method, url, json=body)
        assert r.status_code == 404
        error = r.json()["error"]
        assert error["code"] == "policy_not_found"
        assert error["message"] == str(local.value)
        assert str(local.value) == "no loaded pack named 'nope'; loaded: svc-test"
        assert error["details"]["loaded"] == ["svc-test"]
