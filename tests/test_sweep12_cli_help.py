"""`guard serve --help` says what an option left out means; `guard demo --help` says what
it drives (the shipped packs, not examples/policies/)."""

from __future__ import annotations

import os
import subprocess
import sys


def _help(*command: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", "from guard.cli import main; main()", *command, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert out.returncode == 0, out.stderr
    return " ".join(out.stdout.split())


def test_serve_help_names_the_defaults() -> None:
    text = _help("serve")
    for default in (
        "(default: the shipped packs)",
        "(default: sqlite:///guard-audit.db)",
        "(default: 127.0.0.1)",
        "(default: 8000)",
        "(default: 1)",
        "(default: none: loopback only)",
    ):
        assert default in text


def test_demo_help_says_it_drives_the_shipped_packs() -> None:
    text = _help("demo")
    assert "shipped packs" in text and "example policies" not in text
