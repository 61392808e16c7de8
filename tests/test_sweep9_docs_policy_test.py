"""docs/policy-language.md's test-file part tells what `guard policy test` requires: a test
file beside each pack (a pack without one fails the run) and a `note` in every case."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DOC = (Path(__file__).resolve().parents[1] / "docs" / "policy-language.md").read_text(
    encoding="utf-8"
)
PART = " ".join(DOC.split("## Test files", 1)[1].split())  # the words, whatever the breaks
PACK = "name: {name}\nversion: 1\nrules:\n  - id: x\n    when: 'true'\n"


def _policy_test(path: Path) -> subprocess.CompletedProcess[str]:
    guard = str(Path(sys.executable).parent / "guard")
    return subprocess.run(
        [guard, "policy", "test", str(path)], capture_output=True, text=True, check=False
    )


def test_a_pack_without_a_test_file_fails_as_documented(tmp_path: Path) -> None:
    assert "A pack with no test file beside it fails the run" in PART
    (tmp_path / "p.yaml").write_text(PACK.format(name="p"), encoding="utf-8")
    run = _policy_test(tmp_path)
    assert run.returncode == 1
    assert "FAIL p: no test file beside the pack" in run.stdout


def test_a_case_without_a_note_is_refused_as_documented(tmp_path: Path) -> None:
    assert "Every case needs a `note`" in PART
    (tmp_path / "p.yaml").write_text(PACK.format(name="p"), encoding="utf-8")
    (tmp_path / "p.test.yaml").write_text(
        "cases:\n  - action: {kind: k}\n    expect: {verdict: deny}\n", encoding="utf-8"
    )
    run = _policy_test(tmp_path)
    assert run.returncode == 1
    assert "missing required key 'cases.0.note'" in run.stdout + run.stderr
