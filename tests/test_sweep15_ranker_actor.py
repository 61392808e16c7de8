"""@g.ranker takes the ranking's actor, tenant and query (as Guard.rank does), given or
computed from the ranker's arguments; RemoteGuard.ranker takes actor and query alike."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from guard import Guard, InvalidAction
from guard.client import GuardClient, RemoteGuard
from service import create_app
from service._settings import Settings
from service._state import ServiceState
from tests.service.conftest import TestClient

pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the 'timeout' argument with the TestClient"
)

PACK = """\
name: own
version: 1
rules:
  - id: not-own-listing
    scope: item
    when: item.owner == actor
    effect: deny
    message: "sellers do not see their own listings"
"""
ITEMS = [{"id": "a", "owner": "u1"}, {"id": "b", "owner": "u2"}]


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    path = tmp_path / "own.yaml"
    path.write_text(PACK, encoding="utf-8")
    return path


def test_actor_from_the_rankers_arguments(pack: Path) -> None:
    g = Guard.from_policy(str(pack), audit="memory://")

    @g.ranker(actor=lambda user, q: user, query=lambda user, q: q)
    def search(user: str, q: str) -> list[dict[str, Any]]:
        return [dict(i) for i in ITEMS]

    out = search("u1", "lamps")
    assert [i["id"] for i in out] == ["b"]
    assert out.decision.actor == "u1"
    assert g.audit is not None
    assert g.audit.get(out.decision.id).record["action"]["params"]["query"] == "lamps"
    assert [i["id"] for i in search("u2", "lamps")] == ["a"]


def test_a_fixed_actor_and_tenant(pack: Path) -> None:
    g = Guard.from_policy(str(pack))

    @g.ranker(actor="u2", tenant="acme")
    def search() -> list[dict[str, Any]]:
        return [dict(i) for i in ITEMS]

    out = search()
    assert [i["id"] for i in out] == ["a"]
    assert (out.decision.actor, out.decision.tenant) == ("u2", "acme")


def test_an_async_ranker_takes_them_too(pack: Path) -> None:
    g = Guard.from_policy(str(pack))

    @g.ranker(actor=lambda user: user)
    async def search(user: str) -> list[dict[str, Any]]:
        return [dict(i) for i in ITEMS]

    assert [i["id"] for i in asyncio.run(search("u1"))] == ["b"]


def test_a_wrong_actor_is_refused_by_name(pack: Path) -> None:
    g = Guard.from_policy(str(pack))

    @g.ranker(actor=lambda: 7)
    def search() -> list[dict[str, Any]]:
        return [dict(i) for i in ITEMS]

    with pytest.raises(InvalidAction, match="actor= must give a string, got int"):
        search()


@pytest.fixture
def remote(pack: Path, tmp_path: Path) -> Iterator[RemoteGuard]:
    settings = Settings(policy=str(pack), audit=f"sqlite:///{tmp_path / 'a.db'}")
    state = ServiceState.build(settings)
    with TestClient(create_app(state=state)) as http:
        yield RemoteGuard("", client=GuardClient("http://testserver", client=http))
    state.close()


def test_the_remote_ranker_takes_actor_and_query(remote: RemoteGuard) -> None:
    @remote.ranker(actor=lambda user: user, query="lamps")
    def search(user: str) -> list[dict[str, Any]]:
        return [dict(i) for i in ITEMS]

    out = search("u1")
    assert [i["id"] for i in out] == ["b"]
    assert out.decision.actor == "u1"
