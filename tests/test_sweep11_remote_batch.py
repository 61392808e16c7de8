"""RemoteGuard decides a batch as Guard.check_batch does (it had no check_batch)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from guard import Guard, InvalidAction
from guard.client import GuardClient, RemoteGuard
from tests.service.conftest import (  # noqa: F401 - fixtures
    client,
    make_client,
    pack_file,
    settings,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the 'timeout' argument with the TestClient"
)


@pytest.fixture
def guards(client: Any, pack_file: Path) -> Iterator[tuple[Guard, RemoteGuard]]:  # noqa: F811
    with Guard.from_policy(pack_file) as local:
        yield local, RemoteGuard("", client=GuardClient("http://testserver", client=client))


def _gist(decisions: list[Any]) -> list[tuple[Any, ...]]:
    return [(d.verdict, [h.rule_id for h in d.hits], d.final_action) for d in decisions]


def test_check_batch_matches_in_process(guards: tuple[Guard, RemoteGuard]) -> None:
    local, remote = guards
    actions = [{"kind": "pay", "params": {"amount": a}} for a in (3, 700, 20000)]
    actions.append({"kind": "run_shell", "params": {}})
    assert _gist(remote.check_batch(actions)) == _gist(local.check_batch(actions))
    assert remote.check_batch([]) == local.check_batch([]) == []
    for bad in ("pay", None):
        with pytest.raises(InvalidAction, match="list of mappings"):
            remote.check_batch(bad)  # type: ignore[arg-type]
