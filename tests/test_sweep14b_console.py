"""Sweep 14b: an agent's text cannot reorder what a reviewer reads in the console (Chromium).

Before: only the explicit embeddings, overrides and isolates (U+202A-202E, U+2066-2069)
were spelled out; the marks U+200E LEFT-TO-RIGHT MARK, U+200F RIGHT-TO-LEFT MARK and
U+061C ARABIC LETTER MARK went to the page as is, and no value was isolated from the text
around it, so a kind, actor, rule message, evidence value or note ending in right-to-left
text pulled the neighbouring words and numbers ("by", an amount, the next id) into its run
and the reviewer read them in another order. Now each such value is isolated (<bdi>, or
unicode-bidi: isolate on the element holding it) and every control is shown as [U+XXXX];
what is stored and exported is unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.service.conftest import KEYS, PACK
from tests.service.test_ui import decision_record
from tests.test_sweep10_console import needs_chromium
from tests.test_sweep11_console import browser

__all__ = ["browser"]  # fixtures this module uses

LRM, RLM, ALM, RLO = "\u200e", "\u200f", "\u061c", "\u202e"
CONTROLS = "".join(
    map(chr, [0x61C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
)
# Each value carries the marker ZQ, ends in Hebrew, and holds a mark or an override.
KIND = f"ZQpay{RLM}שלום"
ACTOR = f"ZQbot{ALM}אבג"
MESSAGE = f"ZQto {LRM}דני{RLM}"
FILE = f"ZQinvoice_{RLO}fdp.exe"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from service import KeyStore, ServiceState, Settings, create_app
    from tests.service.conftest import write_keys
    from tests.service.test_ui_browser import Server

    tmp = tmp_path_factory.mktemp("sweep14b")
    (tmp / "pack.yaml").write_text(PACK, encoding="utf-8")
    raws = write_keys(tmp, KEYS)
    settings = Settings(policy=str(tmp / "pack.yaml"), audit=f"sqlite:///{tmp / 'audit.db'}")
    state = ServiceState.build(settings, keys=KeyStore.from_file(tmp / "keys.yaml"))
    hit = {
        "rule_id": "big-payment",
        "effect": "escalate",
        "message": MESSAGE,
        "evidence": {"params.file": FILE},
    }
    state.audit.append_many(
        [
            decision_record(
                id="bidi-1",
                kind=KIND,
                actor=ACTOR,
                verdict="escalate",
                action={"kind": KIND, "params": {"file": FILE}},
                final_action=None,
                hits=[hit],
            )
        ]
    )
    try:
        with Server(create_app(state=state)) as server:
            yield {"url": server.url, "keys": raws, "state": state}
    finally:
        state.close()


@pytest.fixture
def page(browser: Any, site: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(site["url"] + "/ui/login")
    page.fill("input[name=key]", site["keys"]["acme-reviewer"])
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/ui/decisions*")
    yield page
    context.close()


# The text nodes holding a ZQ value (outside the raw JSON dumps) whose value shares its
# bidi run with other text: no isolating inline ancestor before the block around it, and
# that block holds more than the value.
_NOT_ISOLATED = """() => {
  const bad = [];
  const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.data.includes('ZQ') || n.parentElement.closest('pre, svg, script')) continue;
    let e = n.parentElement;
    for (;;) {
      const style = getComputedStyle(e);
      // (a block is its own paragraph: its unicode-bidi does not part the text inside it)
      if (style.display === 'inline' && style.unicodeBidi !== 'normal') break;
      if (style.display !== 'inline') {
        const all = e.textContent.trim();
        if (all !== n.data.trim()) bad.push(e.tagName + ': ' + all);
        break;
      }
      e = e.parentElement;
    }
  }
  return bad;
}"""


@needs_chromium
@pytest.mark.parametrize("path", ["/ui/decisions", "/ui/decisions/bidi-1", "/ui/escalations"])
def test_each_agent_value_is_isolated_and_its_controls_shown(
    page: Any, site: dict[str, Any], path: str
) -> None:
    page.goto(site["url"] + path)
    text = page.inner_text("main")
    assert not [c for c in CONTROLS if c in text], [hex(ord(c)) for c in CONTROLS if c in text]
    assert "ZQbot[U+061C]אבג" in text
    assert page.evaluate(_NOT_ISOLATED) == []


@needs_chromium
def test_a_note_is_isolated_and_shown_with_its_marks_but_stored_as_written(
    page: Any, site: dict[str, Any]
) -> None:
    note = f"ZQok {RLM}עד 900"
    page.goto(site["url"] + "/ui/decisions/bidi-1")
    page.check("#review input[value=correct]")
    page.fill("#review input[name=note]", note)
    page.click("#review button:has-text('Save label')", no_wait_after=True)
    page.locator("p.flash.ok").wait_for(timeout=90_000)  # the first note loads the PII model
    assert "ZQok [U+200F]עד 900" in page.inner_text("#review")
    assert page.evaluate(_NOT_ISOLATED) == []


@needs_chromium
def test_the_export_keeps_the_text_as_recorded(page: Any, site: dict[str, Any]) -> None:
    r = page.request.get(site["url"] + "/ui/decisions/export?format=jsonl")
    rows = [json.loads(line) for line in r.text().splitlines() if line]
    row = next(row for row in rows if row.get("id") == "bidi-1")
    assert row["actor"] == ACTOR and row["kind"] == KIND
