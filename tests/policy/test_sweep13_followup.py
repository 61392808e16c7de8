"""Sweep 13 follow-up: what the loader and `guard policy test` let pass or named wrongly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from guard import PolicyError
from guard.policy import resolve

PACK = (
    "name: {name}\nversion: 1\n"
    "rules:\n  - id: r\n    match: {{kind: pay}}\n    when: params.n > 5\n"
)
CASES = (
    "cases:\n  - note: big\n    action: {kind: pay, params: {n: 9}}\n    expect: {verdict: deny}\n"
)


def guard_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run(
        [sys.executable, "-c", "from guard.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


# -- a test file given where a pack is expected -------------------------------------------


def test_a_test_file_given_as_the_pack_names_its_folder(tmp_path: Path) -> None:
    # It said "give its pack ('p.yaml') or its folder (p.test.yaml)": the test file itself.
    (tmp_path / "p.yaml").write_text(PACK.format(name="p"))
    (tmp_path / "p.test.yaml").write_text(CASES)
    with pytest.raises(PolicyError) as info:
        resolve(tmp_path / "p.test.yaml")
    message = str(info.value)
    assert message.endswith(f"or its folder ({str(tmp_path)!r})")
    assert message.count("p.test.yaml") == 1


def test_lint_of_a_test_file_in_the_current_folder_names_the_folder(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PACK.format(name="p"))
    (tmp_path / "p.test.yaml").write_text(CASES)
    r = guard_cli("policy", "lint", "p.test.yaml", cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "give its pack ('p.yaml') or its folder ('.')" in r.stderr
    assert "(p.test.yaml)" not in r.stderr
