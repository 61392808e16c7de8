"""No network, ever: not at import, not when the engine is built, not while scanning."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from tests.detect.conftest import make_scanner, message

GUARD_SOCKETS = """
import socket
attempts = []

def refuse(*args, **kwargs):
    attempts.append(args[1:2] or args[:1])
    raise OSError("network access attempted: %r" % (args,))

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
"""

SCRIPT = """
import warnings
from guard.detect import PiiScanner, PiiSettings, PiiWarning

entities = ["PERSON", "LOCATION", "EMAIL_ADDRESS", "URL", "PHONE_NUMBER", "OBFUSCATED_EMAIL"]
scanner = PiiScanner(PiiSettings(entities=entities, fields=["params.message"]), hash_key=b"k")
scan = scanner.scan({"params": {"message": "I am John Smith from Toronto: jo@example.co.uk, "
                                 "www.example.org, jo at example dot com, phone 416 555 0199"}})
found = sorted({f.entity_type for f in scan.findings})
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    PiiScanner(PiiSettings(entities=["PERSON"], fields=["m"], nlp_model="en_core_web_lg"))
assert any(issubclass(w.category, PiiWarning) for w in caught)
print("FOUND", found)
print("ATTEMPTS", attempts)
"""


def test_build_and_scan_in_a_fresh_process_never_touch_the_network() -> None:
    code = textwrap.dedent(GUARD_SOCKETS) + textwrap.dedent(SCRIPT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "ATTEMPTS []" in out.stdout, out.stdout + out.stderr
    assert (
        "FOUND ['EMAIL_ADDRESS', 'LOCATION', 'OBFUSCATED_EMAIL', 'PERSON', 'PHONE_NUMBER', 'URL']"
        in out.stdout
    ), out.stdout


def test_scanning_in_process_never_connects(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    scanner = make_scanner(["EMAIL_ADDRESS", "OBFUSCATED_EMAIL", "URL"], cache_size=0)
    scan = scanner.scan(message("jo@example.com, jo@sub.example.museum, jo at example dot io"))
    assert len(scan.findings) >= 3
