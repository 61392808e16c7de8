"""Sweep 15: GuardClient given arguments of the wrong type says so itself, before sending,
instead of blaming the sidecar's answer."""

from __future__ import annotations

import pytest

from guard import InvalidAction
from guard.client import GuardClient
from tests.service.conftest import pay

pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the 'timeout' argument with the TestClient"
)


@pytest.fixture
def remote(client):
    return GuardClient("http://testserver", client=client)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("1", None, id="first-a-string"),
        pytest.param(1, "2", id="second-a-string"),
        pytest.param(True, None, id="first-a-bool"),
        pytest.param(1, False, id="second-a-bool"),
        pytest.param(1.5, None, id="first-a-float"),
        pytest.param(-1, None, id="first-negative"),
        pytest.param(0, -2, id="second-negative"),
        pytest.param(None, 1, id="first-none"),
    ],
)
def test_a_tree_size_that_is_not_a_whole_number_is_refused_here(remote, first, second):
    # consistency("1") was sent, answered with a proof from size 1, then refused as the
    # sidecar's "bad_response" (first 1, not the '1' asked); True went as ?from=true (422).
    remote.check(pay(1))
    remote.check(pay(2))
    with pytest.raises(InvalidAction, match="tree sizes are whole numbers >= 0"):
        remote.consistency(first, second)


def test_whole_numbers_still_work(remote):
    remote.check(pay(1))
    remote.check(pay(2))
    assert remote.consistency(1, 2)["first"] == 1
    assert remote.consistency(0)["second"] == 2


@pytest.fixture
def two_packs(tmp_path, make_client):
    folder = tmp_path / "packs"
    folder.mkdir()
    for name in ("first", "second"):
        (folder / f"{name}.yaml").write_text(
            f"name: {name}\nversion: 1\ndefaults: {{verdict: allow}}\nrules: []\n",
            encoding="utf-8",
        )
    return folder, make_client(policy=str(folder))


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda g: g.check(pay(1)), id="check"),
        pytest.param(lambda g: g.check_batch([pay(1)]), id="check_batch"),
        pytest.param(lambda g: g.rank([{"id": "a"}]), id="rank"),
        pytest.param(lambda g: g.allowed([pay(1)]), id="allowed"),
        pytest.param(lambda g: g.agent(lambda: pay(1))(), id="agent"),
    ],
)
def test_no_pack_named_among_several_is_a_policy_error_as_in_process(two_packs, call):
    # In process, Guard.check with several packs and no policy= raises PolicyError; the
    # client raised RemoteError (a GuardError, not a PolicyError), so `except PolicyError`
    # written against the Guard let it through.
    from guard import Guard, PolicyError
    from guard.client import RemoteGuard

    folder, client = two_packs
    with Guard.from_policy(folder) as local, pytest.raises(PolicyError) as here:
        call(local)
    remote = RemoteGuard("", client=GuardClient("http://testserver", client=client))
    with pytest.raises(PolicyError) as there:
        call(remote)
    assert "several packs are loaded (first, second)" in str(here.value)
    assert "several packs are loaded (first, second)" in str(there.value)


@pytest.mark.parametrize("base", ["http://testserver/v1", "http://testserver/v1/"])
def test_a_base_url_ending_in_v1_is_told_to_drop_it(client, base):
    # `guard serve` prints "guard sidecar API: http://127.0.0.1:8000/v1"; given that, every
    # call went to /v1/v1/... and answered "404 not_found: Not Found", naming no cause.
    from starlette.testclient import TestClient

    from guard.client import RemoteError

    remote = GuardClient(base, client=TestClient(client.app, base_url=base))
    with pytest.raises(RemoteError) as info:
        remote.check(pay(1))
    assert info.value.status == 404
    assert "http://testserver" in str(info.value) and "without /v1" in str(info.value)


def test_an_unknown_id_is_not_given_the_hint(remote):
    from guard.client import RemoteError

    with pytest.raises(RemoteError) as info:
        remote.decision("nope")
    assert info.value.code == "decision_not_found"
    assert "without /v1" not in str(info.value)


def test_the_hint_shows_no_password(client):
    from starlette.testclient import TestClient

    from guard.client import RemoteError

    base = "http://jo:s3cret@testserver/v1"
    remote = GuardClient(base, client=TestClient(client.app, base_url=base))
    with pytest.raises(RemoteError) as info:
        remote.check(pay(1))
    assert "'http://testserver'" in str(info.value)
    assert "s3cret" not in str(info.value)
