"""A reviewer's day in the console, in Chromium, with keys of three kinds.

Before: a key with only audit:read saw a decision's review card with no label form and
no word why (the escalation card said it lacked the review scope, the labels said
nothing); a key bound to tenant globex opening a shared link ?tenant=acme got globex's
decisions under "match these filters", every count link carrying tenant=acme, and its
export of "tenant=acme" held globex's rows (the API refuses that filter with a 403); now
the list says the key cannot read acme and drops the filter, and that export is empty.
After saving a label or resolving an escalation the page came back with the keyboard
focus at its top and the confirmation unannounced, so a keyboard user tabbed through the
header again to reach the next escalation. The live list's status and its announcements
gave the browser's local time on a page that gives every time in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.service.conftest import KEYS, PACK
from tests.service.test_ui import decision_record, login
from tests.test_sweep10_console import needs_chromium
from tests.test_sweep11_console import browser

__all__ = ["browser"]  # fixtures this module uses

HIT = {
    "rule_id": "big-payment",
    "effect": "escalate",
    "message": "payment of 900 needs approval",
    "severity": "high",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A console with a key of each kind (reviewer, auditor, another tenant's reviewer)."""
    from service import KeyStore, ServiceState, Settings, create_app
    from tests.service.conftest import write_keys
    from tests.service.test_ui_browser import Server

    tmp = tmp_path_factory.mktemp("sweep14")
    (tmp / "pack.yaml").write_text(PACK, encoding="utf-8")
    raws = write_keys(tmp, KEYS)
    settings = Settings(
        policy=str(tmp / "pack.yaml"),
        audit=f"sqlite:///{tmp / 'audit.db'}",
        rate_limit="100000/minute",
    )
    state = ServiceState.build(settings, keys=KeyStore.from_file(tmp / "keys.yaml"))
    records = [decision_record(id=f"acme-{i:02d}", actor=f"agent-{i % 3}") for i in range(6)]
    records += [
        decision_record(id=f"held-{i:02d}", verdict="escalate", kind="pay", hits=[HIT])
        for i in range(8)
    ]
    records += [decision_record(id="globex-1", tenant="globex", actor="globex-bot")]
    state.audit.append_many(records)
    try:
        with Server(create_app(state=state)) as server:
            yield {"url": server.url, "keys": raws, "state": state}
    finally:
        state.close()


def _signed_in(browser: Any, site: dict[str, Any], key: str, **options: Any) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(site["url"] + "/ui/login")
    page.fill("input[name=key]", site["keys"][key])
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/ui/decisions*")
    return page


@pytest.fixture
def as_key(browser: Any, site: dict[str, Any]) -> Iterator[Any]:
    """`as_key(name, **context options)`: a page signed in with that key."""
    pages: list[Any] = []

    def open_page(key: str, **options: Any) -> Any:
        pages.append(_signed_in(browser, site, key, **options))
        return pages[-1]

    yield open_page
    for page in pages:
        page.context.close()


def _focused(page: Any) -> str:
    """The focused element: its tag, its id and its text."""
    return str(
        page.evaluate(
            "() => { const e = document.activeElement;"
            " return e.tagName + '#' + e.id + ' ' + (e.innerText || '').trim(); }"
        )
    )


# -- 1. a key that may read but not review ---------------------------------------------------


@needs_chromium
def test_an_auditor_is_told_why_there_is_no_label_form(as_key: Any, site: dict[str, Any]) -> None:
    page = as_key("acme-auditor")
    page.goto(site["url"] + "/ui/decisions/acme-01")
    review = page.locator("#review")
    assert review.locator("form").count() == 0
    assert "lacks the review scope" in review.inner_text()


@needs_chromium
def test_an_auditor_posting_a_label_is_refused_on_a_page_that_says_why(
    as_key: Any, site: dict[str, Any]
) -> None:
    page = as_key("acme-auditor")
    page.goto(site["url"] + "/ui/decisions/acme-01")
    csrf = page.evaluate("() => document.querySelector('input[name=csrf]').value")
    r = page.request.post(
        site["url"] + "/ui/decisions/acme-01/label",
        form={"label": "correct", "note": "", "csrf": csrf},
    )
    assert r.status == 403
    assert "lacks the &#39;review&#39; scope" in r.text()


# -- 2. a key bound to another tenant, on a link naming acme ---------------------------------


@needs_chromium
def test_a_tenant_filter_a_bound_key_may_not_read_is_reported_not_applied(
    as_key: Any, site: dict[str, Any]
) -> None:
    page = as_key("globex-reader")
    page.goto(site["url"] + "/ui/decisions?tenant=acme")
    main = page.inner_text("main")
    assert "acme" not in page.inner_text("table.decisions")
    assert re.search(r"bound to tenant 'globex'.*'acme'", main), main
    # The counts, the pager and the exports do not say or link "tenant=acme".
    hrefs = page.eval_on_selector_all("main a[href]", "els => els.map(e => e.href)")
    assert not [h for h in hrefs if "tenant=acme" in h]
    assert "match these filters" not in page.inner_text(".counts h2")


@needs_chromium
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_for_a_tenant_the_key_may_not_read_is_refused(
    as_key: Any, site: dict[str, Any], fmt: str
) -> None:
    page = as_key("globex-reader")
    r = page.request.get(site["url"] + f"/ui/decisions/export?format={fmt}&tenant=acme")
    assert r.status == 403  # as the API refuses it (sweep 14b)
    assert "globex-1" not in r.text()  # not globex's rows under the name of acme
    own = page.request.get(site["url"] + f"/ui/decisions/export?format={fmt}&tenant=globex")
    assert own.status == 200 and "globex-1" in own.text()


def test_the_filter_of_the_keys_own_tenant_still_applies(site: dict[str, Any]) -> None:
    import httpx

    with httpx.Client(base_url=site["url"]) as client:
        assert login(client, site["keys"]["globex-reader"]).status_code == 303
        r = client.get("/ui/decisions", params={"tenant": "globex"})
    assert r.status_code == 200 and "bound to tenant" not in r.text
    assert "globex-bot" in r.text


# -- 3. the keyboard after an action ---------------------------------------------------------


@needs_chromium
def test_after_a_label_is_saved_focus_is_on_the_confirmation(
    as_key: Any, site: dict[str, Any]
) -> None:
    page = as_key("acme-reviewer")
    page.goto(site["url"] + "/ui/decisions/acme-02")
    page.check("#review input[value=correct]")
    page.focus("#review input[name=note]")
    page.keyboard.type("checked by hand")
    page.keyboard.press("Enter")
    page.locator("p.flash.ok").wait_for(timeout=90_000)  # the first note loads the PII model
    page.wait_for_load_state()
    assert _focused(page).endswith("Label saved to the audit log.")


@needs_chromium
def test_after_an_approval_the_next_tab_reaches_the_next_escalation(
    as_key: Any, site: dict[str, Any]
) -> None:
    page = as_key("acme-reviewer")
    page.goto(site["url"] + "/ui/escalations")
    rows = page.locator("table.escalations tbody tr")
    first, second = rows.nth(0).get_attribute("id"), rows.nth(1).get_attribute("id")
    page.focus(f"#{first} input[name=note]")
    page.keyboard.type("fine")
    page.keyboard.press("Tab")  # Approve
    page.keyboard.press("Enter")
    page.locator("p.flash.ok").wait_for(timeout=90_000)  # the first note loads the PII model
    page.wait_for_load_state()
    assert "Approved" in _focused(page)
    page.keyboard.press("Tab")  # the decision named in the confirmation
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('tr').id") == second


# -- 4. times ----------------------------------------------------------------------------------


@needs_chromium
def test_the_live_status_gives_its_time_in_utc_as_the_page_does(
    as_key: Any, site: dict[str, Any]
) -> None:
    from playwright.sync_api import expect

    page = as_key("acme-reviewer", timezone_id="America/Los_Angeles")
    page.goto(site["url"] + "/ui/decisions")
    status = page.locator("#live-status")
    expect(status).to_have_text(re.compile(r"^updated "), timeout=15_000)
    assert re.fullmatch(r"updated \d\d:\d\d:\d\d UTC", status.inner_text()), status.inner_text()
    shown = _seconds(status.inner_text()[8:16])
    utc = _seconds(page.evaluate("() => new Date().toISOString().slice(11, 19)"))
    assert (utc - shown) % 86_400 < 60  # UTC, not Los Angeles' 8 hours earlier


def _seconds(clock: str) -> int:
    h, m, s = (int(x) for x in clock.split(":"))
    return h * 3600 + m * 60 + s


# -- 5. small print ----------------------------------------------------------------------------


def test_the_proofs_signing_time_is_written_as_every_other_time(site: dict[str, Any]) -> None:
    """Not 2026-11-26T20:30:14.745508+00:00 under times written 2026-11-26 20:30:14 UTC."""
    import httpx

    with httpx.Client(base_url=site["url"]) as client:
        assert login(client, site["keys"]["acme-reviewer"]).status_code == 303
        page = client.get("/ui/decisions/acme-03").text
    signed = re.search(r"<dt>Head signed at</dt><dd>([^<]*)</dd>", page)
    assert signed is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", signed.group(1)), signed.group(1)


def test_the_rules_page_counts_one_decision_and_one_label_in_the_singular(
    site: dict[str, Any],
) -> None:
    import httpx

    from tests.service.test_ui import csrf_of

    with httpx.Client(base_url=site["url"]) as client:
        assert login(client, site["keys"]["globex-reader"]).status_code == 303
        csrf = csrf_of(client.get("/ui/decisions/globex-1").text)
        saved = client.post("/ui/decisions/globex-1/label", data={"label": "correct", "csrf": csrf})
        assert saved.status_code == 303
        text = " ".join(client.get("/ui/rules").text.split())
    assert "1 decisions" not in text and "1 labelled decisions" not in text
    assert "Hits count the one decision;" in text
    assert "labels count the one labelled decision." in text


@needs_chromium
def test_each_approve_and_deny_in_the_queue_names_its_decision(
    as_key: Any, site: dict[str, Any]
) -> None:
    """A screen reader's list of buttons said "Approve, Deny, Approve, Deny..." for the queue."""
    page = as_key("acme-reviewer")
    page.goto(site["url"] + "/ui/escalations")
    held = page.locator("table.escalations tbody tr").first.get_attribute("id")[4:]
    for outcome in ("Approve", "Deny"):
        assert page.get_by_role("button", name=f"{outcome} {held}", exact=True).count() == 1


# -- 6. a note longer than the limit -----------------------------------------------------------


@needs_chromium
@pytest.mark.parametrize(
    ("path", "form"),
    [
        pytest.param("/ui/decisions/acme-04", "#review form", id="label"),
        pytest.param("/ui/decisions/held-06", "#escalation form", id="resolve-on-its-page"),
        pytest.param("/ui/escalations", "#esc-held-05 form", id="resolve-in-the-queue"),
    ],
)
def test_a_pasted_note_past_the_limit_is_refused_whole_not_cut(
    as_key: Any, site: dict[str, Any], path: str, form: str
) -> None:
    """The field cut a pasted 2,500-character note to 2,000 without a word, and the cut
    note was saved."""
    page = as_key("acme-reviewer")
    page.goto(site["url"] + path)
    note = page.locator(f"{form} input[name=note]")
    note.focus()
    page.keyboard.insert_text("🙂" + "z" * 2499)  # a paste: one emoji, 2,500 characters
    assert note.input_value() == "🙂" + "z" * 2499
    if page.locator(f"{form} input[name=label]").count():
        page.check(f"{form} input[value=correct]")
    page.locator(f"{form} button[type=submit]:not([disabled])").first.click()
    message = note.evaluate("e => e.validationMessage")
    assert "2,500 characters" in message and "2,000" in message, message
    assert page.url == site["url"] + path  # not sent
    note.fill("🙂" + "z" * 1999)  # 2,000 characters (2,001 UTF-16 units) are allowed
    assert note.evaluate("e => e.validity.valid")


# -- 7. signing out ----------------------------------------------------------------------------


@needs_chromium
def test_signing_out_says_so(as_key: Any, site: dict[str, Any]) -> None:
    """The sign-in page after Sign out was the one an ended session shows, without a word
    that the sign-out happened (on a shared machine, the reviewer could not tell)."""
    page = as_key("acme-auditor")
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/ui/login*")
    assert page.locator("p.flash.ok[role=status]").inner_text() == "You are signed out."
    page.goto(site["url"] + "/ui/decisions")  # the session is gone: no such note here
    assert "/ui/login" in page.url and page.locator("p.flash.ok").count() == 0
