"""`guard check` on a folder of packs: errors name the CLI's own options."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ACTION = '{"kind": "send_message", "actor": "u1", "params": {"to": "u2", "message": "hi"}}'


def guard_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from guard.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        pytest.param(
            [],
            "holds several packs (agent-tools, marketplace-agent, ranking); choose one with --pack",
            id="no-pack",
        ),
        pytest.param(
            ["--pack", "nope"], "--pack 'nope' is not in --policy 'policies'", id="unknown-pack"
        ),
    ],
)
def test_a_folder_needs_a_pack_named_with_the_pack_option(extra: list[str], needle: str) -> None:
    r = guard_cli("check", "--policy", "policies", "--action", ACTION, *extra)
    assert r.returncode == 2
    [line] = r.stderr.strip().splitlines()
    assert needle in line and "policy=" not in line and "<policy>" not in line


def test_a_folder_with_a_pack_named_decides() -> None:
    r = guard_cli(
        "check", "--policy", "policies", "--pack", "marketplace-agent", "--action", ACTION
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["policy"] == "marketplace-agent"
