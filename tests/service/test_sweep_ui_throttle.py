"""The console throttles key guessing and spends a key's rate limit, as the API does."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from service._auth import KeyStore
from tests.service.test_ui import csrf_of, login


@pytest.fixture(autouse=True)
def _one_window() -> Iterator[None]:
    """Start away from a minute's end: the sliding-window counter behind "3/minute" weighs
    the window before, so requests straddling the boundary could count as fewer than sent."""
    into = time.time() % 60
    if into > 50:
        time.sleep(60.5 - into)
    yield


def test_guessing_keys_at_the_sign_in_form_is_throttled(make_client, keys_file):
    ui = make_client(keys=KeyStore.from_file(keys_file), rate_limit="3/minute")
    statuses = []
    for _ in range(5):
        token = csrf_of(ui.get("/ui/login").text)
        r = ui.post("/ui/login", data={"key": "wrong", "csrf": token}, follow_redirects=False)
        statuses.append(r.status_code)
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]
    assert "Too many sign-in attempts" in r.text and int(r.headers["retry-after"]) >= 1


def test_console_pages_spend_the_keys_rate_limit(make_client, keys_file, raw_keys):
    ui = make_client(keys=KeyStore.from_file(keys_file), rate_limit="3/minute")
    assert login(ui, raw_keys["acme-reviewer"]).status_code == 303
    statuses = [ui.get("/ui/decisions").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
