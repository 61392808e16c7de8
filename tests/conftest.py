from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ROOT / "policies"


@pytest.fixture
def write_pack(tmp_path: Path):
    """Write a pack's YAML text to a file and return its path."""

    def write(text: str, name: str = "pack.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def env_url(name: str) -> str | None:
    return os.environ.get(name) or None
