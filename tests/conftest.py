from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# No timing thresholds in tests (machines are noisy): hypothesis's default 200 ms deadline
# per example failed test_a_flipped_byte_fails_verification on a slow, busy machine, and
# its too_slow health check is a threshold on data generation time.
settings.register_profile("guard", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("guard")

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
