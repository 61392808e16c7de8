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


@pytest.mark.parametrize(
    ("fraction", "since_keeps", "until_keeps"),
    [
        pytest.param("5000001", [], ["r"], id="100ns-after-the-record"),
        pytest.param("500000999", [], ["r"], id="nanoseconds-after-the-record"),
        pytest.param("5000000000", ["r"], [], id="trailing-zeros-are-the-record-itself"),
        pytest.param("4999999", ["r"], [], id="just-before-the-record"),
        pytest.param("499999123456789", ["r"], [], id="more-digits-than-nanoseconds"),
    ],
)
def test_times_finer_than_a_microsecond_bound_records_exactly(
    client, fraction, since_keeps, until_keeps
):
    # A record at 12:00:00.500000: since=12:00:00.5000001 (after it) still listed it, because
    # the digits past the microsecond were dropped; and more than 9 digits, valid RFC 3339,
    # were refused as "expected an RFC 3339 date-time".
    client.app_state.audit.append(
        {"schema_version": "guard.decision/v1", "id": "r", "time": "2026-01-01T12:00:00.500000Z"}
    )
    bound = f"2026-01-01T12:00:00.{fraction}Z"
    got = [
        [i["id"] for i in client.get("/v1/decisions", params={key: bound}).json()["items"]]
        for key in ("since", "until")
    ]
    assert got == [since_keeps, until_keeps]


@pytest.mark.parametrize(
    ("bound", "message"),
    [
        pytest.param("2026-02-30T00:00:00.1234567Z", "day value is outside", id="no-such-day"),
        pytest.param("9999-12-31T23:59:59.9999999Z", "out of range", id="past-year-9999"),
    ],
)
def test_a_fine_time_that_cannot_be_is_a_validation_error(client, bound, message):
    response = client.get("/v1/decisions", params={"since": bound})
    assert response.status_code == 422
    assert message in response.json()["error"]["details"]["errors"][0]["msg"]


@pytest.mark.parametrize(
    "bound",
    [
        pytest.param("2026-01-01T12:00:00.123456\u0661Z", id="arabic-indic-digit-past-6"),
        pytest.param("2026-01-01T12:00:00.1234567\uff11Z", id="fullwidth-digit-past-7"),
        pytest.param("\uff12026-01-01T12:00:00Z", id="fullwidth-digit-in-year"),
    ],
)
def test_digits_other_than_ascii_are_refused(client, bound):
    # RFC 3339 digits are 0-9; an Arabic-Indic or fullwidth digit past the microsecond was
    # read as a finer fraction and the time accepted.
    response = client.get("/v1/decisions", params={"since": bound})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["errors"][0]["msg"] == (
        "Value error, expected an RFC 3339 date-time such as 2026-01-31T12:00:00Z"
    )


def test_a_fine_time_near_the_end_of_year_9999_with_an_offset_is_in_range(client):
    # 9999-12-31T23:59:59.9999999+01:00 is 22:59:59.9999999Z, a time that exists.
    response = client.get("/v1/decisions", params={"until": "9999-12-31T23:59:59.9999999+01:00"})
    assert response.status_code == 200
