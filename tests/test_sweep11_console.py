"""Leftovers of the previous console sweep, tried as a new reviewer would.

Before: an export of a log with a tampered record answered 200 and then stopped: a log
that failed at once gave an empty download (no page saying why), and one that failed
partway through gave a file whose last line was an ordinary row, nothing in it saying
rows were missing. Paging went "Older →" and back only to "← Newest", never one page
back. The filters came before the results for keyboard users with no way past them,
and the Live status, a polite live region, was rewritten by every 5 s poll, so a screen
reader read "updated 14:03:05" every five seconds. A shadow rule hit linked to the live
pack's source (another version, other lines; a rule only the shadow pack has was no
anchor there at all).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.service.conftest import PACK
from tests.service.test_ui import decision_record, login
from tests.test_sweep10_console import ARGS, CHROMIUM, _state, _tamper, needs_chromium

# The live pack with one rule more at the top, as a new version tried in shadow mode.
SHADOW_PACK = PACK.replace("version: 1", "version: 2").replace(
    "rules:\n",
    "rules:\n  - id: any-payment\n    match: {kind: pay}\n    when: params.amount > 100\n"
    "    effect: deny\n    message: every payment is refused\n",
)


def _rows(n: int) -> list[dict[str, Any]]:
    return [decision_record(id=f"row-{i:03d}", actor=f"agent-{i % 3}") for i in range(n)]


@contextmanager
def _signed_in_client(url: str, raw: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url) as client:
        assert login(client, raw).status_code == 303
        yield client


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., dict[str, Any]]]:
    """Start a console of its own on a real server: `serve(records, shadow=False)`."""
    from service import create_app
    from tests.service.test_ui_browser import Server

    with ExitStack() as stack:

        def start(records: list[dict[str, Any]], shadow: bool = False) -> dict[str, Any]:
            state, raw = _state(tmp_path)
            if shadow:  # the same console, with the shadow pack beside the live one
                from service import KeyStore, ServiceState, Settings

                state.close()
                (tmp_path / "shadow.yaml").write_text(SHADOW_PACK, encoding="utf-8")
                settings = Settings(
                    policy=str(tmp_path / "pack.yaml"),
                    shadow=str(tmp_path / "shadow.yaml"),
                    audit=f"sqlite:///{tmp_path / 'audit.db'}",
                    rate_limit="100000/minute",
                )
                keys = KeyStore.from_file(tmp_path / "keys.yaml")
                state = ServiceState.build(settings, keys=keys)
            stack.callback(state.close)
            state.audit.append_many(records)
            server = stack.enter_context(Server(create_app(state=state)))
            return {"url": server.url, "key": raw, "state": state, "db": tmp_path / "audit.db"}

        yield start


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _page(browser: Any, site: dict[str, Any]) -> Any:
    page = browser.new_context(
        viewport={"width": 1280, "height": 900}, accept_downloads=True
    ).new_page()
    page.set_default_timeout(20_000)
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(site["url"] + "/ui/login")
    page.fill("input[name=key]", site["key"])
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/ui/decisions*")
    return page


# -- 1. an export that the log fails under -------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_of_a_log_that_fails_at_once_is_an_error_page(
    serve: Callable[..., dict[str, Any]], fmt: str
) -> None:
    site = serve(_rows(30))
    _tamper(site["db"], "row-025", b"[1, 2]")
    with _signed_in_client(site["url"], site["key"]) as client:
        r = client.get("/ui/decisions/export", params={"format": fmt})
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("text/html")
    assert "content-disposition" not in r.headers  # a page to read, not a file to save
    assert "record id &#39;row-025&#39;" in r.text


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_the_log_fails_under_says_so_and_does_not_end(
    serve: Callable[..., dict[str, Any]], monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """The store is read 5 records at a time and each row is its own chunk, so the first
    rows are on their way before the tampered record is read (as in a long export)."""
    import orjson

    monkeypatch.setattr("service.ui._query._CHUNK", 5)
    monkeypatch.setattr("service.ui._export._CHUNK_BYTES", 1)
    site = serve(_rows(30))
    _tamper(site["db"], "row-003", b"[1, 2]")
    received = b""
    with _signed_in_client(site["url"], site["key"]) as client:
        with client.stream("GET", "/ui/decisions/export", params={"format": fmt}) as r:
            assert r.status_code == 200
            with pytest.raises(httpx.RemoteProtocolError):  # the body never ends
                for chunk in r.iter_raw():
                    received += chunk
    lines = received.decode().splitlines()
    assert any("row-029" in line for line in lines[:3])  # rows came before the failure
    last = lines[-1]
    if fmt == "csv":
        assert last.startswith('"EXPORT INCOMPLETE: ')
        assert "the audit log could not be read" in last and "row-003" in last
    else:
        error = orjson.loads(last)["error"]
        assert error["code"] == "export_incomplete"
        assert error["details"] == {"cause": "audit_tampered"}
        assert "row-003" in error["message"] and "rows above" in error["message"]
    assert sum("row-0" in line for line in lines[:-1]) < 30


@needs_chromium
def test_the_browser_reports_the_failed_download(
    serve: Callable[..., dict[str, Any]], monkeypatch: pytest.MonkeyPatch, browser: Any
) -> None:
    monkeypatch.setattr("service.ui._query._CHUNK", 5)
    monkeypatch.setattr("service.ui._export._CHUNK_BYTES", 1)
    site = serve(_rows(30))
    page = _page(browser, site)
    note = page.locator("#export-note")
    assert "EXPORT INCOMPLETE" in note.inner_text()
    assert page.get_attribute("#export-csv", "aria-describedby") == "export-note"
    _tamper(site["db"], "row-003", b"[1, 2]")
    with page.expect_download() as download:
        page.click("#export-csv")
    assert download.value.failure() is not None  # not a finished file that looks whole
    page.context.close()


def test_the_export_note_is_on_the_decisions_page(serve: Callable[..., dict[str, Any]]) -> None:
    site = serve(_rows(3))
    with _signed_in_client(site["url"], site["key"]) as client:
        text = client.get("/ui/decisions").text
    note = re.search(r'<p [^>]*id="export-note"[^>]*>(.*?)</p>', text, re.S)
    assert note is not None
    assert "error page" in note.group(1) and "download fails" in note.group(1)


# -- 2. one page back ----------------------------------------------------------------------


def _link(text: str, label: str) -> str | None:
    found = re.search(rf'<a [^>]*href="([^"]+)"[^>]*>{re.escape(label)}</a>', text)
    return html.unescape(found.group(1)) if found else None


def _ids(text: str) -> list[str]:
    return re.findall(r'href="/ui/decisions/(row-\d+)"', text)


def test_newer_goes_one_page_back_through_the_decisions(
    serve: Callable[..., dict[str, Any]],
) -> None:
    site = serve(_rows(160))
    with _signed_in_client(site["url"], site["key"]) as client:
        for params, sizes in (({}, [50, 50, 50, 10]), ({"actor": "agent-1"}, [50, 3])):
            pages = [client.get("/ui/decisions", params=params).text]
            while (older := _link(pages[-1], "Older →")) is not None:
                pages.append(client.get(older).text)
            assert [len(_ids(p)) for p in pages] == sizes
            newest = "/ui/decisions" + ("?actor=agent-1" if params else "")
            assert _link(pages[0], "← Newer") is _link(pages[0], "← Newest") is None
            # From the second page one back is the newest: one link, not two to one page.
            assert _link(pages[1], "← Newest") == newest
            assert _link(pages[1], "← Newer") is None
            for n in range(len(pages) - 1, 1, -1):  # back, one page at a time
                newer = _link(pages[n], "← Newer")
                assert newer is not None and newer.startswith(newest)  # the filters go along
                assert _link(pages[n], "← Newest") == newest
                back = client.get(newer).text
                assert _ids(back) == _ids(pages[n - 1])
                assert _link(back, "Older →") == _link(pages[n - 1], "Older →")
                assert _link(back, "← Newer") == _link(pages[n - 1], "← Newer")


def test_a_bad_newer_cursor_is_not_followed_further(serve: Callable[..., dict[str, Any]]) -> None:
    site = serve(_rows(60))
    with _signed_in_client(site["url"], site["key"]) as client:
        older = _link(client.get("/ui/decisions").text, "Older →")
        assert older is not None
        cursor = parse_qs(urlsplit(older).query)["cursor"][0]
        page = client.get("/ui/decisions", params={"cursor": "nonsense", "newer": cursor}).text
        assert "invalid cursor" in page and _link(page, "← Newer") is None
        assert len(_ids(page)) == 50  # the first page, as for any bad cursor


def test_newer_stops_where_the_pages_it_remembers_end() -> None:
    from service.ui._query import NEWER_MAX, pager

    stack = [f"c{i}" for i in range(NEWER_MAX)]
    newer, older = pager({"verdict": "allow"}, "c-here", stack, "c-next")
    assert newer == f"verdict=allow&cursor=c{NEWER_MAX - 1}&" + "&".join(
        f"newer=c{i}" for i in range(NEWER_MAX - 1)
    )
    assert older is not None
    kept = parse_qs(older, keep_blank_values=True)["newer"]
    assert len(kept) == NEWER_MAX and kept[0] == "" and kept[-1] == "c-here"
    # From a page whose page before was forgotten, no Newer link (Newest is there).
    assert pager({}, "c-far", [""], None) == (None, None)
    assert pager({}, "c-1", [], None) == ("", None)  # the newest page, no parameters
    assert pager({}, None, [], "c-1") == (None, "cursor=c-1")


def test_newer_goes_one_page_back_through_the_escalations_and_survives_a_resolve(
    serve: Callable[..., dict[str, Any]],
) -> None:
    hit = {"rule_id": "big-payment", "effect": "escalate", "message": "payment needs approval"}
    held = [
        decision_record(id=f"held-{i:03d}", kind="pay", verdict="escalate", hits=[hit])
        for i in range(120)
    ]
    site = serve(held)
    with _signed_in_client(site["url"], site["key"]) as client:
        first = client.get("/ui/escalations").text
        second = client.get(_link(first, "More →")).text
        third_url = _link(second, "More →")
        third = client.get(third_url).text
        assert _link(first, "← Newer") is None
        assert _link(second, "← Newer") is None  # one back is the newest: "← Newest"
        assert _link(second, "← Newest") == _link(third, "← Newest") == "/ui/escalations"
        back = client.get(_link(third, "← Newer")).text
        ids = re.findall(r'id="esc-(held-\d+)"', back)
        assert ids == re.findall(r'id="esc-(held-\d+)"', second)
        # Resolving on the third page comes back to it with its Newer link.
        form = re.search(r'id="esc-held-005">.*?</form>', third, re.S)
        assert form is not None
        fields: dict[str, list[str]] = {"outcome": ["approve"]}
        for name, value in re.findall(
            r'<input type="hidden" name="(\w+)" value="([^"]*)"', form.group(0)
        ):
            fields.setdefault(name, []).append(html.unescape(value))
        assert len(fields["newer"]) == 1
        r = client.post(
            "/ui/escalations/held-005/resolve",
            data=fields,
            follow_redirects=False,
        )
        assert r.status_code == 303
        after = client.get(r.headers["location"]).text
        assert "Approved" in after and 'id="esc-held-005"' not in after
        assert _link(after, "← Newer") == _link(third, "← Newer")


# -- 3. keyboard and screen readers ----------------------------------------------------------


@needs_chromium
def test_skip_to_results_is_the_first_tab_stop(
    serve: Callable[..., dict[str, Any]], browser: Any
) -> None:
    site = serve(_rows(5))
    page = _page(browser, site)
    page.goto(site["url"] + "/ui/decisions")
    page.keyboard.press("Tab")
    skip = page.evaluate("[document.activeElement.textContent, document.activeElement.hash]")
    assert skip == ["Skip to results", "#results"]
    box = page.locator("a.skip").bounding_box()
    assert box is not None and box["y"] >= 0 and box["width"] > 20  # shown while focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "results"
    page.keyboard.press("Tab")  # the next stop is in the results, past the filters
    assert page.evaluate("document.getElementById('results').contains(document.activeElement)")
    box = page.locator("a.skip").bounding_box()
    assert box is None or box["y"] + box["height"] <= 0 or box["width"] <= 1  # hidden again
    assert page.errors == []
    page.context.close()


@needs_chromium
def test_the_live_list_announces_new_decisions_only(
    serve: Callable[..., dict[str, Any]], browser: Any
) -> None:
    from playwright.sync_api import expect

    site = serve(_rows(5))
    page = _page(browser, site)
    page.goto(site["url"] + "/ui/decisions")
    live = page.locator("[aria-live]:not([aria-live=off]), [role=status], [role=log], [role=alert]")
    live_texts = (
        "() => [...document.querySelectorAll('[aria-live]:not([aria-live=off])')]"
        ".map(e => e.textContent)"
    )
    assert live.count() == 1
    before = page.evaluate(live_texts)
    page.wait_for_function(
        "() => document.getElementById('live-status').textContent.startsWith('updated')",
        timeout=15_000,
    )
    assert page.evaluate(live_texts) == before  # a poll with nothing new: nothing read out
    site["state"].audit.append_many(
        [decision_record(id="new-1", actor="agent-9"), decision_record(id="new-2")]
    )
    expect(live).to_have_text(re.compile(r"^2 new decisions"), timeout=15_000)
    site["state"].audit.append(decision_record(id="new-3"))
    expect(live).to_have_text(re.compile(r"^1 new decision\b"), timeout=15_000)
    assert page.errors == []
    page.context.close()


# -- 4. shadow hits --------------------------------------------------------------------------


def _hit_links(text: str, section: str) -> dict[str, str | None]:
    part = text.split(section, 1)[1].split("</section>", 1)[0]
    found: dict[str, str | None] = {}
    for m in re.finditer(r'<(a|span) class="rule"(?: href="([^"]+)")?>([^<]+)</\1>', part):
        found[m.group(3)] = html.unescape(m.group(2)) if m.group(2) else None
    return found


def test_shadow_hits_link_to_the_shadow_packs_source(
    serve: Callable[..., dict[str, Any]],
) -> None:
    site = serve([], shadow=True)
    state = site["state"]
    decision = state.guard.check({"kind": "pay", "tenant": "acme", "params": {"amount": 700}})
    shadow = state.shadow["svc-test"]
    lines = {r.id: r.line for r in shadow.rules}
    with _signed_in_client(site["url"], site["key"]) as client:
        text = client.get(f"/ui/decisions/{decision.id}").text
        links = _hit_links(text, "<h2>Shadow policy")
        assert links == {
            "any-payment": f"/ui/policies/svc-test?shadow=1#L{lines['any-payment']}",
            "big-payment": f"/ui/policies/svc-test?shadow=1#L{lines['big-payment']}",
        }
        live = state.guard.packs["svc-test"]
        assert lines["big-payment"] != next(r.line for r in live.rules if r.id == "big-payment")
        source = client.get(links["big-payment"]).text
        assert 'version 2 · <span class="tag">shadow</span> evaluated beside' in source
        target = re.search(rf'<li id="L{lines["any-payment"]}"[^>]*><code>([^<]*)</code>', source)
        assert target is not None and "any-payment" in target.group(1)
        listed = client.get("/ui/policies").text  # the shadow pack is listed, as one
        assert "and the shadow packs it only evaluates" in listed
        assert (
            '<a href="/ui/policies/svc-test?shadow=1">svc-test</a> <span class="tag">shadow'
            in listed
        )
        assert client.get("/ui/policies/no-such?shadow=1").status_code == 404
        # A shadow result of a pack not loaded now (another digest): its rules, not links.
        record = decision_record(
            id="old-shadow",
            shadow={
                "policy": "svc-test",
                "version": 1,
                "digest": "sha256:" + "ef" * 32,
                "verdict": "deny",
                "hits": [{"rule_id": "big-payment", "effect": "deny", "message": "m"}],
                "agrees": False,
            },
        )
        state.audit.append(record)
        text = client.get("/ui/decisions/old-shadow").text
        assert _hit_links(text, "<h2>Shadow policy") == {"big-payment": None}
        assert "shadow pack not loaded now" in text
