"""Sweep 15: the decision filters given times as other languages' clients write them."""

from __future__ import annotations

import datetime as dt

import pytest

from guard.client import GuardClient, RemoteError
from tests.service.conftest import pay

pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the 'timeout' argument with the TestClient"
)


@pytest.mark.parametrize(
    "since",
    [
        pytest.param("2026-01-31T12:00:00", id="iso-no-offset"),
        pytest.param("2026-01-31 12:00:00", id="space-no-offset"),
        pytest.param("2026-01-31T12:00:00.123456", id="fraction-no-offset"),
    ],
)
@pytest.mark.parametrize("route", ["/v1/decisions", "/v1/decisions/export"])
def test_a_time_without_an_offset_is_refused_saying_the_offset_is_missing(client, since, route):
    # Python's datetime.now().isoformat(), JavaScript's toISOString().slice(0, 19), Java's
    # LocalDateTime: a time with no offset was refused as "expected an RFC 3339 date-time",
    # leaving the caller to find which part of theirs was wrong.
    response = client.get(route, params={"since": since})
    assert response.status_code == 422
    msg = response.json()["error"]["details"]["errors"][0]["msg"]
    assert "expected an RFC 3339 date-time such as 2026-01-31T12:00:00Z" in msg
    assert "no UTC offset" in msg
    assert "Z or an offset such as +05:30" in msg


def test_a_date_alone_is_refused_saying_a_time_is_needed(client):
    response = client.get("/v1/decisions", params={"until": "2026-01-31"})
    assert response.status_code == 422
    msg = response.json()["error"]["details"]["errors"][0]["msg"]
    assert "a date alone" in msg and "2026-01-31T00:00:00Z" in msg


def test_the_client_sending_a_naive_datetime_is_told_the_offset_is_missing(client):
    # GuardClient.decisions(since=datetime.now()) sends "2026-01-31 12:00:00": no zone.
    remote = GuardClient("http://testserver", client=client)
    remote.check(pay(1))
    with pytest.raises(RemoteError) as info:
        remote.decisions(since=dt.datetime(2020, 1, 1))
    assert "no UTC offset" in str(info.value)
    aware = dt.datetime(2020, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
    assert len(remote.decisions(since=aware)["items"]) == 1
    assert remote.decisions(until=aware)["items"] == []
