"""The reviewer API's query filters, as a new user writes them by hand."""

from __future__ import annotations

import pytest

from tests.service.conftest import pay


@pytest.mark.parametrize("path", ["/v1/decisions", "/v1/decisions/export"])
def test_a_time_range_ending_before_it_starts_is_refused(client, path):
    # Swapped bounds matched nothing and answered 200 with no decision, as if there were none.
    client.post("/v1/check", json={"action": pay(1)})
    params = {"since": "2030-01-02T00:00:00Z", "until": "2020-01-01T00:00:00+01:00"}
    response = client.get(path, params=params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_range"
    assert error["message"] == (
        "'since' (2030-01-02T00:00:00+00:00) is later than 'until' (2020-01-01T00:00:00+01:00), "
        "so no decision can match; swap them"
    )
    assert error["details"] == {
        "since": "2030-01-02T00:00:00.000000Z",
        "until": "2019-12-31T23:00:00.000000Z",
    }


@pytest.mark.parametrize(
    ("since", "until"),
    [
        pytest.param("2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", id="empty-range"),
        pytest.param("2020-01-01T01:00:00+01:00", "2020-01-01T00:00:00Z", id="same-instant"),
        pytest.param("2020-01-01T00:00:00Z", "2030-01-01T00:00:00Z", id="in-order"),
    ],
)
def test_a_range_in_order_or_empty_is_answered(client, since, until):
    response = client.get("/v1/decisions", params={"since": since, "until": until})
    assert response.status_code == 200
