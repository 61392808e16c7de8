from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        pytest.param("marketplace_agent.py", ["redact", "paid 450", "held for review"], id="agent"),
        pytest.param(
            "ranker.py", ["p2: deny", "p6: deny (at most 3 results per agency)"], id="ranker"
        ),
    ],
)
def test_example_runs(tmp_path: Path, script: str, expected: list[str]) -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    for needle in expected:
        assert needle in r.stdout
