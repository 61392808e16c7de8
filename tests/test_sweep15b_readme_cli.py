"""README.md's "On the command line" block, run line by line as printed (in a folder holding
the shipped packs as `policies/`, as the repository root does), does what its comments say."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif(
    not (BIN / "guard").exists() or shutil.which("bash") is None,
    reason="needs the installed guard command and bash",
)


def _commands() -> list[str]:
    section = README.split("### On the command line", 1)[1]
    found = re.search(r"```sh\n(.*?)```", section, re.S)
    assert found
    joined = found.group(1).replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip()]


def test_the_command_line_block_runs_as_printed(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "bin").symlink_to(BIN)  # the block calls .venv/bin/guard
    env = {**os.environ, "NO_COLOR": "1"}
    decision_id = None
    commands = _commands()
    assert len(commands) == 7
    for command in commands:
        line, _, comment = command.partition("  #")
        if "<decision-id>" in line:
            assert decision_id is not None and 'an "id" printed above' in comment
            line = line.replace("<decision-id>", decision_id)
        done = subprocess.run(  # noqa: S603 - a fixed line from the README
            ["bash", "-c", line],  # noqa: S607
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, (line, done.stderr)
        assert "Traceback" not in done.stderr
        if " check " in line:
            decision = json.loads(done.stdout)
            assert decision["verdict"] == "escalate" and decision["audited"] is True
            assert decision["hits"][0]["rule_id"] == "payment-needs-approval"
            decision_id = decision["id"]
            # "without --audit nothing is recorded"
            bare = re.sub(r"--audit \S+ ", "", line)
            again = subprocess.run(  # noqa: S603
                ["bash", "-c", bare],  # noqa: S607
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert again.returncode == 0 and json.loads(again.stdout)["audited"] is False
        if "policy test" in line:  # "reports rule coverage"
            assert re.search(r"rule coverage \d+/\d+", done.stdout)
            for pack in ("agent-tools", "marketplace-agent", "ranking"):
                assert f"PASS {pack}" in done.stdout
        if line.startswith(".venv/bin/guard audit verify"):
            assert done.stdout.startswith("ok  1 records verified")
        if "--against head.json" in line:  # "and it only grew"
            assert "extends the tree head of size 1 in head.json" in done.stdout
        if " show " in line:
            assert json.loads(done.stdout)["record"]["id"] == decision_id
    # "signed: keep it elsewhere": the head is signed with the key beside the log
    head = json.loads((tmp_path / "head.json").read_text(encoding="utf-8"))
    assert head["size"] == 1 and head["algorithm"] == "ed25519"
    assert (tmp_path / "guard-audit.db.key").exists()
