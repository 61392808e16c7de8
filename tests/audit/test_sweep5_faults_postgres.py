"""The PostgreSQL audit store failing under a running Guard: restarts, a connection killed in
the middle of an append, the server unreachable. `Guard.check` raises, never returns an
un-audited decision; the log verifies and holds every acknowledged decision afterwards."""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from guard import AuditError, Guard
from guard.audit import AuditLog
from tests.audit.conftest import libpq_url

PACK = """\
name: t
version: 1
defaults: {verdict: allow, on_error: deny}
rules: []
"""


class Proxy:
    """A TCP relay to the PostgreSQL server that the test can take down and bring back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None

    def up(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """Refuse new connections and cut the open ones, as a server gone away does."""
        for sock in [*([self._listener] if self._listener else []), *self._sockets]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self._sockets.clear()
        self._listener = None

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self._sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass


@pytest.fixture
def app_name() -> str:
    return f"guard_sweep5_{secrets.token_hex(4)}"


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    path = tmp_path / "t.yaml"
    path.write_text(PACK, encoding="utf-8")
    return path


def open_guard(pack: Path, url: str, schema: str) -> Guard:
    from guard.audit import PostgresStore

    return Guard.from_policy(pack, audit=AuditLog(PostgresStore(url, schema=schema)))


@pytest.fixture
def guard(pack: Path, postgres_server: str, postgres_schema: str, app_name: str) -> Iterator[Guard]:
    url = f"{postgres_server}{'&' if '?' in postgres_server else '?'}application_name={app_name}"
    g = open_guard(pack, url, postgres_schema)
    yield g
    g.close()


@pytest.fixture
def admin(postgres_server: str) -> Iterator[Any]:
    import psycopg

    with psycopg.connect(libpq_url(postgres_server), autocommit=True) as conn:
        yield conn


def pay(n: int) -> dict[str, Any]:
    return {"kind": "pay", "params": {"amount": n}}


def checked(guard: Guard, n: int) -> list[str]:
    decisions = [guard.check(pay(i)) for i in range(n)]
    assert all(d.audited for d in decisions)
    return [d.id for d in decisions]


def intact(guard: Guard, acknowledged: list[str]) -> None:
    assert guard.audit is not None
    assert guard.audit.verify().size == len(acknowledged)
    assert [r.id for r in guard.audit.iter_records()] == acknowledged


def test_a_restart_that_kills_idle_connections_costs_no_decision(
    guard: Guard, admin: Any, app_name: str
) -> None:
    acknowledged = checked(guard, 2)
    killed = admin.execute(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
        (app_name,),
    ).fetchone()[0]
    assert killed >= 1
    acknowledged += checked(guard, 2)
    intact(guard, acknowledged)


def test_a_connection_killed_between_the_leaf_and_the_tree_state_writes_neither(
    guard: Guard, admin: Any, postgres_schema: str
) -> None:
    acknowledged = checked(guard, 1)
    state = f'"{postgres_schema}".guard_audit_tree_state'
    admin.execute(
        f'CREATE FUNCTION "{postgres_schema}".die() RETURNS trigger LANGUAGE plpgsql AS '
        "$$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$"
    )
    admin.execute(
        f"CREATE TRIGGER die BEFORE UPDATE ON {state} "
        f'FOR EACH ROW EXECUTE FUNCTION "{postgres_schema}".die()'
    )
    with pytest.raises(AuditError, match="could not append.*terminating connection"):
        guard.check(pay(99))
    admin.execute(f"DROP TRIGGER die ON {state}")
    acknowledged += checked(guard, 1)
    intact(guard, acknowledged)


def test_an_unreachable_server_raises_and_recovers(
    pack: Path, postgres_server: str, postgres_schema: str
) -> None:
    parts = urlsplit(libpq_url(postgres_server))
    proxy = Proxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    proxy.up()
    netloc = f"{parts.username or 'postgres'}@127.0.0.1:{proxy.port}"
    url = parts._replace(netloc=netloc).geturl()
    guard = open_guard(pack, url, postgres_schema)
    try:
        acknowledged = checked(guard, 2)
        proxy.down()
        for _ in range(2):
            with pytest.raises(AuditError, match="could not append to the audit log"):
                guard.check(pay(-1))
        proxy.up()
        acknowledged += checked(guard, 2)
        intact(guard, acknowledged)
    finally:
        proxy.down()
        guard.close()
