"""README.md as a new user reads it: what the sidecar section says about /v1/check candidates,
/v1/rank items and the audit queries holds, and the RemoteGuard snippet does what it says,
run twice against one sidecar as a user runs it twice against `make run`."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

with warnings.catch_warnings():  # starlette asks for httpx2; the TestClient still works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from guard import ActionEscalated  # noqa: E402
from guard.client import GuardClient, RemoteGuard  # noqa: E402
from service import create_app  # noqa: E402
from service._settings import Settings  # noqa: E402
from service._state import ServiceState  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the 'timeout' argument with the TestClient"
)

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
PROSE = " ".join(README.split())  # the words, whatever the line breaks
PAY = {"kind": "release_payment", "params": {"amount": 25000}}
SMALL = {"kind": "release_payment", "params": {"amount": 400}}


def _row(endpoint: str) -> str:
    (row,) = [line for line in README.splitlines() if line.startswith(f"| `{endpoint}")]
    return row


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp: Path = tmp_path_factory.mktemp("readme")
    state = ServiceState.build(Settings(audit=f"sqlite:///{tmp / 'audit.db'}"))
    with TestClient(create_app(state=state)) as client:
        yield client
    state.close()


def test_check_candidates_may_carry_declared_indices(http: Any) -> None:
    row = _row("POST /v1/check`")
    assert "[action, probability, index]" in row and "-inf" in row
    body = {
        "policy": "marketplace-agent",
        "context": {"role": "agent"},
        # action 0 was masked (-inf); an actor of its own keeps the snippet's counters apart
        "candidates": [[{**PAY, "actor": "u9"}, 0.7, 1], [{**SMALL, "actor": "u9"}, 0.3, 2]],
    }
    sub = http.post("/v1/check", json=body).json()["substitution"]
    assert (sub["original_index"], sub["chosen_index"]) == (1, 2)


def test_rank_items_may_leave_out_their_id(http: Any) -> None:
    row = _row("POST /v1/check/batch")
    assert "without `id`" in row
    items = [{"score": 0.9, "status": "suspended"}, {"score": 0.8}]
    out = http.post("/v1/rank", json={"policy": "ranking", "items": items}).json()
    assert [(o["id"], o["verdict"]) for o in out["items"]] == [(0, "deny"), (1, "allow")]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/decisions?verdcit=deny",
        "/v1/decisions/export?verdcit=deny",
        "/v1/escalations?statu=pending",
        "/v1/audit/consistency?from=1&to=1&too=2",
        "/v1/escalations/0/wait?timout=1",
    ],
)
def test_audit_queries_refuse_an_unknown_parameter_as_the_readme_says(http: Any, path: str) -> None:
    assert "refuse an unknown query parameter with `422 validation_error`" in PROSE
    res = http.get(path)
    assert res.status_code == 422
    assert res.json()["error"]["code"] == "validation_error"


def _remote_snippet() -> str:
    section = README.split("**From Python.**", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found
    return found.group(1)


def test_the_remote_snippet_pays_400_once_and_says_why_a_second_run_is_held(
    http: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    snippet = _remote_snippet()
    assert "payments-add-up-past-approval" in snippet  # the second run's hold is explained
    client = GuardClient("http://testserver", client=http)

    def remote(url: str, api_key: str | None = None, **options: Any) -> RemoteGuard:
        assert url == "http://127.0.0.1:8000"
        options["wait_for_review"] = 0  # the snippet waits 60 s for a reviewer
        return RemoteGuard(url, api_key, client=client, **options)

    monkeypatch.setattr("guard.client.RemoteGuard", remote)
    monkeypatch.delenv("KEY", raising=False)
    scope: dict[str, Any] = {}
    exec(compile(snippet, "README:From Python", "exec"), scope)  # noqa: S102
    assert dict(scope["action"])["params"] == {"amount": 400}
    with pytest.raises(ActionEscalated) as held:
        exec(compile(snippet, "README:From Python", "exec"), {})  # noqa: S102
    assert held.value.decision.hits[0].rule_id == "payments-add-up-past-approval"


def test_the_console_key_example_sees_make_runs_traffic() -> None:
    section = README.split("### Opening the review console", 1)[1].split("##", 1)[0]
    (command,) = re.findall(r"`(\.venv/bin/guard keys create [^`]*)`", section)
    assert "audit:read" in command
    assert "--tenant" not in command  # a tenant-bound key would see none of make run's decisions


def test_guard_demo_is_said_to_record_where_it_writes() -> None:
    from guard.cli import DEFAULT_AUDIT

    assert DEFAULT_AUDIT == "sqlite:///guard-audit.db"
    assert re.search(r"`guard demo`[^.]*`guard-audit\.db`", README, re.S)


def _serve_command() -> str:
    section = README.split("## The HTTP sidecar", 1)[1]
    (command,) = re.findall(r"guard serve (.*?)\ncurl", section, re.S)
    return command.replace("\\\n", " ")


def test_the_serve_command_without_its_optional_parts_starts_without_redis() -> None:
    from guard.policy import load
    from service._errors import UnsharedCounters
    from service._state import refuse_unshared_rates

    command = _serve_command()
    optional = re.findall(r"\[([^\]]*)\]", command)
    assert any("--workers" in o and "--redis" in o for o in optional)  # one optional part
    words = re.sub(r"\[[^\]]*\]", " ", command).split()
    assert "--workers" not in words and "--redis" not in words
    options = dict(zip(words[::2], words[1::2], strict=True))
    settings = Settings(policy=str(Path(__file__).resolve().parents[1] / options["--policy"]))
    refuse_unshared_rates(settings, load(settings.policy))  # one worker: no Redis needed
    two = settings.with_(workers=2)
    with pytest.raises(UnsharedCounters, match="pass --redis URL"):
        refuse_unshared_rates(two, load(settings.policy))
