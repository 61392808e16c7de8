"""Bidi controls in an agent's text are spelled out, so they cannot reorder what a reviewer reads.

Before: an action kind, actor or parameter holding U+202E (right-to-left override) was
printed as is; the browser then drew the rest of that text, and the text after it in
the same line (the "by <actor>" of the heading), reversed ("Trojan Source" spoofing).
"""

from __future__ import annotations

import pytest

from tests.service.test_ui import decision_record, signed_in, ui  # noqa: F401 - the ui fixture

RLO, PDF, RLI, PDI = "\u202e", "\u202c", "\u2067", "\u2069"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param(f"{RLO}tnemyap_esaeler", "[U+202E]tnemyap_esaeler", id="override"),
        pytest.param(f"a{RLI}b{PDI}c", "a[U+2067]b[U+2069]c", id="isolate"),
        pytest.param(f"x{PDF}", "x[U+202C]", id="pop"),
        pytest.param("שלום agent", "שלום agent", id="hebrew-negative"),
        pytest.param("plain-agent", "plain-agent", id="plain-negative"),
    ],
)
def test_bidi_controls_in_record_text_are_spelled_out(ui, raw_keys, text, shown):  # noqa: F811
    params = {"to": text}
    ui.app_state.audit.append(
        decision_record(
            id="bidi-1",
            kind=text,
            actor=text,
            verdict="deny",
            action={"kind": text, "params": params},
            final_action=None,
            hits=[{"rule_id": "r", "effect": "deny", "message": f"to {text} refused"}],
        )
    )
    signed_in(ui, raw_keys, "admin")
    for path in ("/ui/decisions", "/ui/decisions/bidi-1"):
        html = ui.get(path).text
        assert not any(c in html for c in (RLO, PDF, RLI, PDI)), path
        assert shown in html, path
