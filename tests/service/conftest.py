"""Fixtures for the sidecar tests: a small rules-only pack, keys, apps and clients."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from service import KeyStore, ServiceState, Settings, create_app
from service._auth import new_key

with warnings.catch_warnings():  # starlette asks for httpx2; the TestClient still works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PACK = """\
name: svc-test
version: 1
description: rules for the sidecar tests
defaults: {verdict: allow, on_error: deny}
rules:
  - id: no-shell
    match: {kind: run_shell}
    when: kind == "run_shell"
    effect: deny
    message: shell commands are refused
  - id: big-payment
    match: {kind: pay}
    when: params.amount > 500
    effect: escalate
    message: "payment of {params.amount} needs approval"
  - id: huge-payment
    match: {kind: pay}
    when: params.amount > 10000
    effect: deny
  - id: secret-field
    match: {kind: note}
    when: has(params.secret)
    effect: redact
    redact: [params.secret]
  - id: drop-suspended
    scope: item
    when: get(item.status, "active") == "suspended"
    effect: deny
    message: suspended seller
"""

# name -> (scopes, tenant)
KEYS: dict[str, tuple[list[str], str | None]] = {
    "admin": (["admin"], None),
    "acme-agent": (["check"], "acme"),
    "acme-reviewer": (["review", "audit:read"], "acme"),
    "acme-auditor": (["audit:read"], "acme"),
    "globex-agent": (["check"], "globex"),
    "globex-reader": (["audit:read", "review"], "globex"),
}


@pytest.fixture
def pack_file(tmp_path: Path) -> Path:
    path = tmp_path / "svc-test.yaml"
    path.write_text(PACK, encoding="utf-8")
    return path


def write_keys(
    folder: Path, keys: dict[str, tuple[list[str], str | None]] = KEYS
) -> dict[str, str]:
    """Make one key per entry of `keys`; write folder/keys.yaml; return name -> raw key."""
    raws: dict[str, str] = {}
    entries = []
    for name, (scopes, tenant) in keys.items():
        raws[name], entry = new_key(name, scopes, tenant)
        entries.append(entry.as_yaml_dict())
    (folder / "keys.yaml").write_text(yaml.safe_dump(entries), encoding="utf-8")
    return raws


@pytest.fixture
def raw_keys(tmp_path: Path) -> dict[str, str]:
    """Make one key per entry of KEYS; write keys.yaml; return name -> raw key."""
    return write_keys(tmp_path)


@pytest.fixture
def keys_file(tmp_path: Path, raw_keys: dict[str, str]) -> Path:
    return tmp_path / "keys.yaml"


@pytest.fixture
def settings(tmp_path: Path, pack_file: Path) -> Settings:
    return Settings(
        policy=str(pack_file),
        audit=f"sqlite:///{tmp_path / 'audit.db'}",
        rate_limit="100000/minute",
        long_poll_max=5.0,
        poll_interval=0.05,
    )


@pytest.fixture
def make_client(settings: Settings) -> Iterator[Callable[..., TestClient]]:
    """Build an app from `settings` (with changes) and return a TestClient on it."""
    opened: list[TestClient] = []

    def make(keys: KeyStore | None = None, **changes: Any) -> TestClient:
        state = ServiceState.build(settings.with_(**changes), keys=keys)
        client = TestClient(create_app(state=state), raise_server_exceptions=True)
        client.__enter__()
        opened.append(client)
        client.app_state = state  # type: ignore[attr-defined]
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)
        client.app_state.close()  # type: ignore[attr-defined]


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """Open access (no keys file): every request is an admin of tenant None."""
    return make_client()


@pytest.fixture
def keyed(make_client: Callable[..., TestClient], keys_file: Path) -> TestClient:
    """A client on an app with the KEYS configured."""
    return make_client(keys=KeyStore.from_file(keys_file))


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def pay(amount: float, **extra: Any) -> dict[str, Any]:
    return {"kind": "pay", "actor": "agent-1", "params": {"amount": amount}, **extra}
