"""A new user's first minutes: what `make run` (service/_feed.py), `guard demo`
(guard/_demo.py) and examples/marketplace_agent.py show them is sensible and complete."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("presidio_analyzer")

with warnings.catch_warnings():  # starlette asks for httpx2; the TestClient still works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from guard._demo import run_demo  # noqa: E402
from guard.client import GuardClient  # noqa: E402
from service import create_app  # noqa: E402
from service._feed import feed_demo  # noqa: E402
from service._settings import Settings  # noqa: E402
from service._state import ServiceState  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the 'timeout' argument with the TestClient"
)

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CONTACT = {
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "OBFUSCATED_EMAIL",
    "OBFUSCATED_PHONE",
    "CONTACT_HANDLE",
}
SHOWN_BY_SERVE = 8  # `guard serve --demo` prints the feed's first 8 example lines


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("feed12")
    settings = Settings(audit=f"sqlite:///{tmp / 'audit.db'}", rate_limit="100000/minute")
    state = ServiceState.build(settings)
    with TestClient(create_app(state=state)) as http:
        client = GuardClient("http://testserver", client=http)
        summary = feed_demo(client)
        records = [d["record"] for d in client.decisions(limit=200)["items"]]
        yield {"summary": summary, "records": records, "http": http}
    state.close()


def _contact_messages(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        r
        for r in records
        if r["kind"] == "send_message" and {p["entity_type"] for p in r["pii"]} & CONTACT
    ]


def test_contact_details_before_a_contract_are_redacted(fed) -> None:
    # a random has_contract let some through: the console showed a phone number, a spelt-out
    # e-mail and a Telegram handle ALLOWed with no rule hit, the contract not being recorded
    found = _contact_messages(fed["records"])
    assert len(found) == 4
    assert {r["verdict"] for r in found} == {"redact"}
    assert all(h["rule_id"] == "no-contact-before-contract" for r in found for h in r["hits"])


def test_payment_messages_and_scores_read_as_written(fed) -> None:
    messages = [h["message"] for r in fed["records"] for h in r["hits"]]
    assert "payment of 700 needs approval" in messages
    assert "payment amount must be positive, got -5" in messages
    assert not any("payment" in m and ".0" in m for m in messages), messages
    # the policy's own preference, not each amount's share of the total (score 0.01575)
    reason = next(
        r["substitution"]["reason"]
        for r in fed["records"]
        if r["kind"] == "release_payment" and r["substitution"]
    )
    assert reason.endswith("substituted alternative #1 (score 0.3), the best one not denied")


def test_a_scored_choice_is_recorded_with_its_attribution(fed) -> None:
    explained = [
        r for r in fed["records"] if any(e.get("kind") == "attribution" for e in r["explanations"])
    ]
    assert len(explained) == 1
    record = explained[0]
    attribution = record["explanations"][0]
    assert record["policy"] == "marketplace-agent" and record["verdict"] == "allow"
    # the attribution explains the action that ran: the substitute of the denied payment
    assert attribution["target"] == record["substitution"]["chosen_index"] == 1
    assert record["substitution"]["rejected"][0]["rule_ids"] == ["payment-hard-limit"]
    assert record["final_action"]["kind"] == "send_message"
    assert attribution["check_ok"] and attribution["estimate"] == "exact"
    assert attribution["feature_names"] == ["budget", "trust", "urgency", "age_days"]
    page = fed["http"].get(f"/ui/decisions/{record['id']}")
    assert page.status_code == 200
    assert "Feature attribution" in page.text and 'class="chart attribution"' in page.text
    said = README.split("`make run` starts", 1)[1].split("\n\n", 1)[0]
    assert "feature attribution" in said and "planner, attribution" in said


def test_the_lines_serve_prints_show_each_kind_of_content(fed) -> None:
    lines = fed["summary"]["examples"]
    assert len(lines) <= SHOWN_BY_SERVE, lines  # the planner and the review were cut off
    for start in (
        "redacted 5 of 8 messages",
        "ActionEscalated:",
        "substituted:",
        "ActionBlocked:",
        "ranking:",
        "planner:",
        "attribution:",
        "approved held decision",
    ):
        assert sum(x.startswith(start) for x in lines) == 1, (start, lines)
    assert "4 more from this run left pending" in lines[-1]  # earlier runs may hold more
    planner = next(x for x in lines if x.startswith("planner:"))  # one sentence, not the page
    assert planner.endswith("search the docs is the best allowed action."), planner


def test_every_verdict_and_a_pending_queue(fed) -> None:
    verdicts = {r["verdict"] for r in fed["records"]}
    assert verdicts == {"allow", "redact", "escalate", "deny"}
    pending = fed["http"].get("/v1/escalations", params={"status": "pending"}).json()["items"]
    assert len(pending) == 4


def test_guard_demo_lines_fit_and_redact_contact_details() -> None:
    summary = run_demo(None)
    lines = summary["examples"]
    assert lines[0].startswith("redacted 5 of 8 messages, e.g. ")
    assert sum(x.startswith("tool ") for x in lines) == 4  # none cut off by the 12-line cap
    assert len(lines) < 12
    assert summary["verdicts"]["marketplace-agent"] == {
        "allow": 5,
        "redact": 5,
        "escalate": 1,
        "deny": 1,
    }


def test_marketplace_example_says_why_a_phone_number_went_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import runpy

    monkeypatch.chdir(tmp_path)  # it writes examples-audit.db where it runs
    runpy.run_path(str(ROOT / "examples" / "marketplace_agent.py"), run_name="__main__")
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "416-555-0199" in x)
    assert line.startswith("allow") and line.endswith("(a contract exists)"), line
    assert "(a contract exists)" not in out.replace(line, "")
