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
