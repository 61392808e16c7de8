"""`max_batch` alone bounds /v1/check/batch and /v1/shield: one action over the default is
413 batch_too_large (the schema's own cap of 1,000 made it a 422), and a sidecar given a
larger max_batch takes batches that large."""

from __future__ import annotations

from typing import Any

import pytest

ACTION = {"kind": "pay", "params": {"amount": 5}}


@pytest.mark.parametrize("path", ["/v1/check/batch", "/v1/shield"])
def test_one_action_over_the_default_max_batch_is_413(client: Any, path: str) -> None:
    limit = client.app_state.settings.max_batch
    response = client.post(path, json={"actions": [ACTION] * (limit + 1)})
    assert response.status_code == 413
    error = response.json()["error"]
    assert (error["code"], error["details"]) == ("batch_too_large", {"max_actions": limit})


@pytest.mark.parametrize("path", ["/v1/check/batch", "/v1/shield"])
def test_a_larger_max_batch_is_honoured(make_client: Any, path: str) -> None:
    client = make_client(max_batch=1200)
    response = client.post(path, json={"actions": [ACTION] * 1200})
    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == 1200
