"""guard serve's banner names only what it serves; the workers' refusal names total() too."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from guard.policy import parse
from service._settings import Settings
from service._state import UnsharedCounters, refuse_unshared_rates

GUARD = str(Path(sys.executable).with_name("guard"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_console_line_when_the_console_is_off(tmp_path: Path) -> None:
    env = {**os.environ, "GUARD_CONSOLE": "false"}
    port = _free_port()
    proc = subprocess.Popen(
        [GUARD, "serve", "--port", str(port), "--audit", "memory://"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("serving;") or not line:
                break
        banner = "".join(lines)
        assert "guard sidecar API:" in banner and "metrics:" in banner
        assert "review console" not in banner
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_a_pack_using_only_total_is_named_as_such() -> None:
    pack = parse(
        "name: tot\nversion: 1\nrules:\n  - id: t\n"
        "    when: total(str(actor), params.amount, 3600) > 100\n"
    )
    try:
        refuse_unshared_rates(Settings(workers=2), [pack])
    except UnsharedCounters as exc:
        assert "use rate() or total()" in str(exc)
    else:
        raise AssertionError("two workers without Redis were not refused")
