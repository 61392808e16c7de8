from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def guard_cli(
    *args: str, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from guard.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        input=stdin,
        timeout=120,
    )


def test_check_prints_the_decision_as_json() -> None:
    r = guard_cli(
        "check",
        "--policy",
        "marketplace-agent",
        "--action",
        '{"kind": "release_payment", "actor": "u1", "params": {"amount": 700}}',
        "--context",
        '{"role": "agent"}',
    )
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["verdict"] == "escalate" and d["hits"][0]["rule_id"] == "payment-needs-approval"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        pytest.param(
            ["check", "--policy", "marketplace-agent", "--action", "{not json"],
            "--action is not valid JSON",
            id="bad-json",
        ),
        pytest.param(
            ["check", "--policy", "marketplace-agent", "--action", "[1, 2]"],
            "must be a mapping",
            id="non-dict-action",
        ),
        pytest.param(
            ["check", "--policy", "nope", "--action", "{}"], "no policy file", id="no-pack"
        ),
        pytest.param(
            ["check", "--policy", "marketplace-agent", "--action", "@/nonexistent.json"],
            "cannot read --action",
            id="missing-file",
        ),
    ],
)
def test_cli_errors_are_one_line_without_traceback(args: list[str], needle: str) -> None:
    r = guard_cli(*args)
    assert r.returncode != 0
    assert needle in r.stderr
    assert "Traceback" not in r.stderr
    assert needle in r.stderr.strip().splitlines()[-1]


def test_policy_lint_reports_position(tmp_path: Path) -> None:
    bad = tmp_path / "a.yaml"
    bad.write_text("name: a\nversion: 1\nrules:\n  - id: x\n    when: 'true'\n    effect: block\n")
    r = guard_cli("policy", "lint", str(bad))
    assert r.returncode == 1
    assert "unknown effect 'block' in rule 'x'" in r.stderr and "a.yaml:6:13" in r.stderr
    assert guard_cli("policy", "lint", "policies").returncode == 0


def test_policy_test_fails_on_a_wrong_expectation(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "name: a\nversion: 1\nrules:\n  - id: x\n    when: params.n > 1\n"
        "  - id: never\n    when: params.n > 100\n"
    )
    (tmp_path / "a.test.yaml").write_text(
        "cases:\n  - note: n=5 is denied\n    action: {kind: k, params: {n: 5}}\n"
        "    expect: {verdict: allow}\n"
    )
    r = guard_cli("policy", "test", str(tmp_path))
    assert r.returncode == 1
    assert "n=5 is denied" in r.stdout and "never fired: never" in r.stdout


def test_audit_head_verify_show_and_tamper(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    ids = []
    for amount in (100, 700, 20000):
        r = guard_cli(
            "check",
            "--policy",
            "marketplace-agent",
            "--audit",
            url,
            "--action",
            json.dumps({"kind": "release_payment", "actor": "u1", "params": {"amount": amount}}),
        )
        assert r.returncode == 0, r.stderr
        ids.append(json.loads(r.stdout)["id"])
    head = json.loads(guard_cli("audit", "head", "--audit", url).stdout)
    assert head["size"] == 3 and len(head["root"]) == 64
    ok = guard_cli("audit", "verify", "--audit", url)
    assert ok.returncode == 0 and "3 records" in ok.stdout
    shown = json.loads(guard_cli("audit", "show", ids[1], "--audit", url).stdout)
    assert shown["record"]["verdict"] == "escalate" and shown["index"] == 1

    con = sqlite3.connect(tmp_path / "a.db")
    rec = con.execute("SELECT record FROM leaves WHERE idx = 1").fetchone()[0]
    tampered = bytes(rec).replace(b'"escalate"', b'"allow"', 1)
    con.execute("UPDATE leaves SET record = ? WHERE idx = 1", (tampered,))
    con.commit()
    con.close()
    bad = guard_cli("audit", "verify", "--audit", url)
    assert bad.returncode == 1 and "first bad record index 1" in bad.stderr


def test_demo_runs_and_prints_summary(tmp_path: Path) -> None:
    r = guard_cli("demo", "--audit", f"sqlite:///{tmp_path / 'demo.db'}")
    assert r.returncode == 0, r.stderr
    assert "marketplace-agent" in r.stdout and "audit log" in r.stdout
