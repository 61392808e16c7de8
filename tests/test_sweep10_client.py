"""RemoteGuard and GuardClient as a new user meets them, side by side with Guard: ranked
scores keep their type, page answers are checked, odd inputs get the in-process answers."""

from __future__ import annotations

from typing import Any

import pytest

from guard import Guard
from guard.client import RemoteError, RemoteGuard
from tests.service.conftest import (  # noqa: F401 - fixtures
    client,
    make_client,
    pack_file,
    settings,
)
from tests.test_sweep8_client_parity import guards  # noqa: F401 - fixture

pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the 'timeout' argument with the TestClient"
)

Guards = tuple[Guard, RemoteGuard]


@pytest.mark.parametrize(
    "score",
    [3, 0, -7, 2**53 - 1, -(2**53 - 1), 3.0, 1.5, -0.0, 5e-324, 1e308, None],
    ids=repr,
)
def test_a_ranked_score_comes_back_as_given(guards: Guards, score: Any) -> None:  # noqa: F811
    for guard in guards:
        decision = guard.rank([{"id": 1, "score": score}, {"id": 2, "status": "suspended"}])
        assert decision.final_items == [{"id": 1, "score": score}]
        assert type(decision.final_items[0]["score"]) is type(score)


def test_the_ranker_decorator_keeps_integer_scores(guards: Guards) -> None:  # noqa: F811
    ranked = [{"id": "a", "score": 10}, {"id": "b", "score": 9.5}]
    for guard in guards:
        out = guard.ranker(lambda: ranked)()
        assert [type(i["score"]) for i in out] == [int, float]


@pytest.mark.parametrize("score", [True, False, "3", [1], {"v": 1}], ids=repr)
def test_a_score_that_is_not_a_number_is_refused_by_the_sidecar(
    guards: Guards,  # noqa: F811
    score: Any,
) -> None:
    with pytest.raises(RemoteError) as info:
        guards[1].rank([{"id": 1, "score": score}])
    assert (info.value.status, info.value.code) == (422, "validation_error")
    assert "body.items.0.score" in str(info.value)
