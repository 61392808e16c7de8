"""The review endpoints (long-poll waits, resolutions, labels) given odd input by hand."""

from __future__ import annotations

import pytest

from tests.service.conftest import pay


def _held(client) -> str:
    decision = client.post("/v1/check", json={"action": pay(700)}).json()
    assert decision["verdict"] == "escalate"
    return str(decision["id"])


@pytest.mark.parametrize("timeout", ["nan", "NaN", "inf", "-inf", "infinity"])
def test_a_wait_that_is_not_a_finite_number_says_so(client, timeout):
    # ?timeout=nan was refused as "Input should be less than or equal to 5": NaN is not above
    # 5, and a caller lowering the value would never get it accepted.
    response = client.get(f"/v1/escalations/{_held(client)}/wait", params={"timeout": timeout})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["errors"][0]["msg"] == "Input should be a finite number"
