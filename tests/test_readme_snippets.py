"""The README's Python snippets run as written (a tour that fails is a new user's first bug)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _block_after(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, f"no python block after {heading!r}"
    return found.group(1)


def test_the_python_tour_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # it writes guard-audit.db in the working directory
    scope: dict[str, object] = {}
    exec(compile(_block_after("### In Python"), "README:In Python", "exec"), scope)  # noqa: S102
    assert str(scope["d"].verdict) in ("escalate", "Verdict.ESCALATE")  # type: ignore[attr-defined]
    assert os.path.exists(tmp_path / "guard-audit.db")


def test_the_explanations_snippet_runs() -> None:
    pytest.importorskip("captum")
    scope: dict[str, object] = {}
    exec(compile(_block_after("### Explanations"), "README:Explanations", "exec"), scope)  # noqa: S102
    explanation = scope["action"].decision.explanations[0]  # type: ignore[attr-defined]
    assert explanation["method"] == "integrated_gradients" and explanation["check_ok"] is True
