"""RemoteGuard on async functions: the sidecar call runs off the event loop, and no usable
answer is still a RemoteError with the action never returned."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from guard import Guard
from guard.client import GuardClient, RemoteError, RemoteGuard

PACK = """\
name: t
version: 1
defaults: {verdict: allow, on_error: deny}
rules:
  - id: drop-suspended
    scope: item
    when: get(item.status, "active") == "suspended"
    effect: deny
"""

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def local(tmp_path: Path) -> Guard:
    path = tmp_path / "t.yaml"
    path.write_text(PACK, encoding="utf-8")
    return Guard.from_policy(path)


def remote(handler: Handler) -> RemoteGuard:
    http = httpx.Client(base_url="http://sidecar", transport=httpx.MockTransport(handler))
    return RemoteGuard("", client=GuardClient("http://sidecar", client=http))


def deciding(local: Guard, released: threading.Event, seen: list[bool]) -> Handler:
    """A fake sidecar that answers once `released` is set (or 10 s passed), noting which."""

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(released.wait(10))
        body = json.loads(request.content)
        if request.url.path == "/v1/rank":
            decision = local.rank(body["items"], query=body.get("query"))
        else:
            decision = local.check(body["action"])
        return httpx.Response(200, json=decision.model_dump(mode="json"))

    return handle


async def act() -> dict[str, Any]:
    return {"kind": "pay", "params": {"amount": 1}}


async def search() -> AsyncIterator[dict[str, Any]]:
    yield {"id": 1, "status": "suspended"}
    yield {"id": 2}


@pytest.mark.parametrize(
    ("decorate", "fn", "expected"),
    [
        pytest.param("agent", act, {"kind": "pay", "params": {"amount": 1}}, id="agent"),
        pytest.param("ranker", search, [{"id": 2}], id="ranker-async-generator"),
    ],
)
def test_the_event_loop_runs_other_tasks_while_the_sidecar_decides(
    local: Guard, decorate: str, fn: Callable[[], Any], expected: Any
) -> None:
    released, seen = threading.Event(), []
    guarded = getattr(remote(deciding(local, released, seen)), decorate)(fn)

    async def main() -> Any:
        call = asyncio.create_task(guarded())
        await asyncio.sleep(0)  # the guarded call starts and reaches the sidecar first
        released.set()  # from the loop: runs while the sidecar decides, if the loop is free
        return await call

    # A blocked loop reaches released.set() only after the sidecar answered, which then
    # waited its 10 s out in vain.
    assert asyncio.run(main()) == expected
    assert seen == [True]


def down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def failing(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503, text="")


@pytest.mark.parametrize(
    ("handler", "code"),
    [pytest.param(down, "sidecar_unreachable", id="down"), pytest.param(failing, "http_error")],
)
@pytest.mark.parametrize("decorate", ["agent", "ranker"])
def test_an_async_function_never_returns_without_a_decision(
    handler: Handler, code: str, decorate: str
) -> None:
    guarded = getattr(remote(handler), decorate)(act if decorate == "agent" else search)
    with pytest.raises(RemoteError) as info:
        asyncio.run(guarded())
    assert info.value.code == code
