"""Signing out ends the session: a cookie copied before sign-out is refused afterwards."""

from __future__ import annotations

from service.ui._session import COOKIE
from tests.service.test_ui import csrf_of, signed_in
from tests.service.test_ui import ui as ui  # noqa: F401 - the fixture


def test_a_copied_cookie_is_refused_after_sign_out(ui, raw_keys):
    signed_in(ui, raw_keys, "acme-reviewer")
    copied = ui.cookies.get(COOKIE)
    page = ui.get("/ui/decisions").text
    assert ui.post("/ui/logout", data={"csrf": csrf_of(page)}).status_code == 200
    ui.cookies.clear()
    ui.cookies.set(COOKIE, copied)
    assert ui.get("/ui/decisions", follow_redirects=False).status_code == 303  # to sign-in


def test_other_sessions_of_the_same_key_stay_signed_in(ui, raw_keys):
    signed_in(ui, raw_keys, "acme-reviewer")
    other = ui.cookies.get(COOKIE)
    signed_in(ui, raw_keys, "acme-reviewer")
    page = ui.get("/ui/decisions").text
    ui.post("/ui/logout", data={"csrf": csrf_of(page)})
    ui.cookies.clear()
    ui.cookies.set(COOKIE, other)
    assert ui.get("/ui/decisions", follow_redirects=False).status_code == 200
