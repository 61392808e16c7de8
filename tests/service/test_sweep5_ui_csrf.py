"""A page of another site cannot sign the reviewer out, through sign-out or sign-in posts.

SameSite=Lax keeps the session cookie off a cross-site POST, so the console saw no session:
POST /ui/logout then deleted the cookie and a refused POST /ui/login set a new anonymous
one, either way replacing the reviewer's session in the browser (a forced sign-out).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service.ui._session import COOKIE
from tests.service.test_ui import csrf_of, signed_in, ui  # noqa: F401 - the ui fixture

CHROMIUM = Path("/usr/bin/chromium")
CROSS_SITE = [
    pytest.param({"Sec-Fetch-Site": "cross-site"}, id="sec-fetch-site"),
    pytest.param({"Origin": "https://evil.example"}, id="origin"),
]


def _cookie_set(response: Any) -> bool:
    return any(COOKIE in v for v in response.headers.get_list("set-cookie"))


@pytest.mark.parametrize("headers", CROSS_SITE)
@pytest.mark.parametrize("path", ["/ui/logout", "/ui/login"])
def test_a_cross_site_post_without_the_cookie_sets_no_cookie(ui, headers, path):  # noqa: F811
    ui.cookies.clear()  # what the browser sends cross-site: no SameSite=Lax cookie
    r = ui.post(path, data={"csrf": "x", "key": "gk_guess"}, headers=headers)
    assert r.status_code == 403
    assert not _cookie_set(r), r.headers.get_list("set-cookie")


@pytest.mark.parametrize("path", ["/ui/logout", "/ui/login"])
def test_a_same_site_post_keeps_working(ui, raw_keys, path):  # noqa: F811
    """Negatives: the console's own forms (Origin: null under no-referrer) still sign in/out."""
    signed_in(ui, raw_keys, "admin")
    token = csrf_of(ui.get("/ui/decisions" if path == "/ui/logout" else "/ui/login").text)
    if path == "/ui/login":
        ui.cookies.clear()
        token = csrf_of(ui.get("/ui/login").text)
    data = {"csrf": token, "key": raw_keys["admin"]}
    headers = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    r = ui.post(path, data=data, headers=headers, follow_redirects=False)
    assert r.status_code == 303 and _cookie_set(r)


def test_a_logout_without_a_cookie_deletes_nothing(ui):  # noqa: F811
    """An older browser that sends neither header: with no cookie there is nothing to delete."""
    ui.cookies.clear()
    r = ui.post("/ui/logout", data={"csrf": "x"}, follow_redirects=False)
    assert r.status_code == 303 and not _cookie_set(r)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
@pytest.mark.parametrize(
    ("path", "fields"),
    [
        pytest.param("/ui/logout", {"csrf": "x"}, id="sign-out"),
        pytest.param("/ui/login", {"csrf": "x", "key": "gk_guess"}, id="sign-in"),
        pytest.param("/ui/decisions/x/label", {"csrf": "x", "label": "correct"}, id="label"),
    ],
)
def test_a_page_of_another_site_cannot_sign_the_reviewer_out(
    console: dict[str, Any], path: str, fields: dict[str, str]
) -> None:
    from playwright.sync_api import sync_playwright

    url = console["url"]
    inputs = "".join(f'<input name="{k}" value="{v}">' for k, v in fields.items())
    attack = (
        f'<form id="f" method="post" action="{url}{path}">{inputs}</form>'
        '<script>document.getElementById("f").submit()</script>'
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            page.goto(url + "/ui/login")
            page.fill("input[name=key]", console["key"])
            page.click("button:has-text('Sign in')")
            page.wait_for_url("**/ui/decisions*")
            page.route(
                "http://evil.test/",
                lambda route: route.fulfill(status=200, content_type="text/html", body=attack),
            )
            page.goto("http://evil.test/")
            page.wait_for_url(f"{url}/**")
            page.goto(url + "/ui/rules")
            assert page.url == url + "/ui/rules", f"signed out: landed on {page.url}"
        finally:
            browser.close()


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import yaml

    from service import KeyStore, ServiceState, Settings, create_app
    from service._auth import new_key
    from tests.service.conftest import PACK
    from tests.service.test_ui_browser import Server

    tmp = tmp_path_factory.mktemp("csrf")
    (tmp / "pack.yaml").write_text(PACK, encoding="utf-8")
    raw, entry = new_key("reviewer", ["audit:read", "review"], "acme")
    (tmp / "keys.yaml").write_text(yaml.safe_dump([entry.as_yaml_dict()]), encoding="utf-8")
    settings = Settings(
        policy=str(tmp / "pack.yaml"),
        audit=f"sqlite:///{tmp / 'audit.db'}",
        rate_limit="100000/minute",
    )
    state = ServiceState.build(settings, keys=KeyStore.from_file(tmp / "keys.yaml"))
    try:
        with Server(create_app(state=state)) as server:
            yield {"url": server.url, "key": raw}
    finally:
        state.close()
