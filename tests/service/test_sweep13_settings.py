"""Settings and serve() refuse what uvicorn would refuse late, for library callers too.

Before: `Settings(log_level="loud")` was accepted and `create_app`/`serve` then failed with
uvicorn's KeyError traceback (only the CLI checked it); `serve()` with one worker on a
port in use loaded the packs and the PII engine first, then exited through uvicorn's log.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from service._server import serve
from service._settings import LOG_LEVELS, Settings, SettingsError


def test_the_levels_are_uvicorns() -> None:
    from uvicorn.config import LOG_LEVELS as UVICORN

    assert set(LOG_LEVELS) == set(UVICORN)


@pytest.mark.parametrize("level", ["loud", "", "information"])
def test_an_unknown_log_level_is_a_settings_error(level: str) -> None:
    with pytest.raises(SettingsError, match=r"log_level \(GUARD_LOG_LEVEL\) must be one of"):
        Settings(log_level=level)


def test_a_log_level_in_any_case_is_taken() -> None:
    assert Settings(log_level="WARNING").log_level == "WARNING"
    with pytest.raises(SettingsError, match="must be one of"):
        Settings.from_env({"GUARD_LOG_LEVEL": "verbose"})


def test_serve_on_a_port_in_use_refuses_before_loading_anything(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # A pack that does not exist: loading it would raise another error first.
        settings = Settings(policy=str(tmp_path / "missing.yaml"), port=port, audit="memory://")
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port}: "):
            serve(settings)
