"""409 already_resolved says when the escalation was resolved as people read a time."""

from __future__ import annotations

import re

import pytest

from service._errors import readable_time
from tests.service.conftest import pay


def test_second_resolution_says_when_in_a_readable_time(client):
    held = client.post("/v1/check", json={"action": pay(900)}).json()["id"]
    first = client.post(f"/v1/escalations/{held}/resolve", json={"outcome": "deny"}).json()
    again = client.post(f"/v1/escalations/{held}/resolve", json={"outcome": "approve"})
    assert again.status_code == 409
    error = again.json()["error"]
    stamp = re.sub(r"T(\d\d:\d\d:\d\d).*", r" \1 UTC", first["time"])  # to the second
    assert error["message"].endswith(f" at {stamp}"), error["message"]
    assert error["details"] == {"id": held, "outcome": "deny", "resolution_id": first["id"]}


@pytest.mark.parametrize(
    ("time", "shown"),
    [
        pytest.param("2026-11-26T10:54:27.068638+00:00", "2026-11-26 10:54:27 UTC", id="utc"),
        pytest.param("2026-11-26T23:54:27-02:00", "2026-11-27 01:54:27 UTC", id="offset-to-utc"),
        pytest.param("2026-11-26T10:54:27Z", "2026-11-26 10:54:27 UTC", id="z"),
        pytest.param("2026-13-26T10:54:27Z", "2026-13-26T10:54:27Z", id="not-a-date-kept"),
        pytest.param(None, "None", id="none"),
    ],
)
def test_readable_time(time, shown):
    assert readable_time(time) == shown
