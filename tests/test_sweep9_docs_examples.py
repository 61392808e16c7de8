"""The planner examples' options as a new user tries them: a count too small for a search
is refused with a usage message (exit 2), not a traceback from deep inside the planner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyspiel")
pytest.importorskip("gymnasium")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize(
    ("script", "option", "value", "least"),
    [
        ("planner_cliffwalking.py", "--simulations", "0", 1),
        ("planner_cliffwalking.py", "--max-steps", "0", 1),
        ("planner_cliffwalking.py", "--max-steps", "-3", 1),
        ("planner_openspiel.py", "--simulations", "1", 2),
        ("planner_openspiel.py", "--simulations", "-5", 2),
    ],
)
def test_a_count_too_small_is_a_usage_error(
    tmp_path: Path, script: str, option: str, value: str, least: int
) -> None:
    r = subprocess.run(
        [sys.executable, str(EXAMPLES / script), option, value],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    assert f"argument {option}: must be at least {least}, got {value}" in r.stderr
