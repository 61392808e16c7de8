"""Console defects only visible in a browser: drawn with headless Chromium, measured in the DOM."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from service.ui._charts import attribution_chart

CHROMIUM = Path("/usr/bin/chromium")
UI = Path(__file__).resolve().parents[2] / "service" / "ui"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
)

NAMES = [
    "payee_account_age_days_rolling_mean",
    "merchant_category_code_mismatch_rate",
    "MAXIMUM_WEEKLY_WITHDRAWAL_AMOUNT_USD",
    "amount",
]


def test_long_feature_names_are_drawn_inside_the_attribution_chart() -> None:
    """Before: labels of 30+ characters began left of the SVG, so their start was cut off."""
    from playwright.sync_api import sync_playwright

    chart = attribution_chart(
        {
            "kind": "attribution",
            "method": "captum.IntegratedGradients",
            "feature_names": NAMES,
            "values": [0.1, -0.2, 0.3, 0.05],
            "inputs": [33.1, 0.25, 12345.5, 700.0],
            "base_value": 0.0,
            "output": 0.25,
        }
    )
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(UI / "templates"), autoescape=True)
    macro = env.get_template("macros.html").module.attribution  # type: ignore[attr-defined]
    css = (UI / "static" / "ui.css").read_text(encoding="utf-8")
    html = f"<html><head><style>{css}</style></head><body><main>{macro(chart)}</main></body></html>"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_content(html)
            drawn = page.evaluate(
                "Array.from(document.querySelectorAll('svg.attribution text.lbl'))"
                ".map(t => [t.textContent, t.getBBox().x])"
            )
        finally:
            browser.close()
    assert len(drawn) == len(NAMES)
    for text, left in drawn:
        assert left >= 0, f"{text!r} starts {-left:.0f}px left of the chart"
    texts = [t for t, _ in drawn]
    assert any(t.endswith(" = 12345.5") for t in texts)  # the input survives the shortening
    assert any(t.startswith("payee_account") for t in texts)
