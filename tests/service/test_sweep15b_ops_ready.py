"""Why /readyz is 503 reaches the server log, once per change.

Before: with the audit database down, /readyz answered `503 audit_unavailable` with
"audit log not readable: AuditError" and the server logged nothing at all: the operator
had no way to learn which database failed or why. Now the reason (the store's error,
which names the database but never its password) is logged once when readiness is lost,
not at every probe, and its coming back is logged too.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from guard._exceptions import AuditError


class _Flaky:
    """An audit log whose `size` fails while `down`; everything else is the real log's."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.down = False

    @property
    def size(self) -> int:
        if self.down:
            raise AuditError(
                "could not read the audit log 'postgresql://guard:***@db.internal/guard': "
                "connection refused"
            )
        return int(self._real.size)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def test_losing_and_regaining_readiness_is_logged_once_each(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    state = client.app_state
    flaky = _Flaky(state.audit)
    state.audit = flaky
    try:
        with caplog.at_level(logging.INFO, logger="guard.service"):
            assert client.get("/readyz").status_code == 200
            flaky.down = True
            for _ in range(3):
                r = client.get("/readyz")
                assert r.status_code == 503
                assert r.json()["error"]["code"] == "audit_unavailable"
                assert "server log" in r.json()["error"]["message"]
                assert "db.internal" not in r.text  # the database is named in the log only
            flaky.down = False
            assert client.get("/readyz").status_code == 200
            assert client.get("/readyz").status_code == 200
    finally:
        state.audit = flaky._real
    lines = [rec.getMessage() for rec in caplog.records if "ready" in rec.getMessage()]
    assert len(lines) == 2, lines
    assert "not ready" in lines[0] and "db.internal" in lines[0] and "refused" in lines[0]
    assert "***" in lines[0]
    assert "ready again" in lines[1]
