"""A ranking whose items share an id is refused: outcomes are reported by id."""

from __future__ import annotations

import pytest

from guard import Guard, InvalidAction


@pytest.fixture(scope="module")
def guard() -> Guard:
    return Guard.from_policy("ranking")


@pytest.mark.parametrize(
    ("items", "message"),
    [
        pytest.param([{"id": "a"}, {"id": "a"}], "items 0 and 1 share the id 'a'", id="same-str"),
        pytest.param([{"id": 1}, {}], "items 0 and 1 share the id 1", id="id-equals-position"),
        pytest.param([{"id": "x"}, {"id": 2}, {"id": 2}], "items 1 and 2", id="same-int"),
    ],
)
def test_shared_ids_are_refused(guard: Guard, items: list[dict[str, object]], message: str) -> None:
    with pytest.raises(InvalidAction, match=message):
        guard.rank(items)


@pytest.mark.parametrize(
    "items",
    [
        pytest.param([{"id": "1"}, {"id": 1}], id="str-and-int-differ"),
        pytest.param([{}, {}, {"id": 5}], id="positions"),
        pytest.param([], id="empty"),
    ],
)
def test_distinct_ids_are_ranked(guard: Guard, items: list[dict[str, object]]) -> None:
    decision = guard.rank(items)
    assert [o.id for o in decision.items] == [it.get("id", i) for i, it in enumerate(items)]


def test_the_ranker_decorator_refuses_them(guard: Guard) -> None:
    @guard.ranker
    def search() -> list[dict[str, object]]:
        return [{"id": "a", "score": 1.0}, {"id": "a", "score": 0.5}]

    with pytest.raises(InvalidAction, match="share the id 'a'"):
        search()


@pytest.mark.parametrize(
    ("action", "message"),
    [
        pytest.param({"kind": 4111111111111111}, "'kind', got int", id="kind-int"),
        pytest.param({"kind": ""}, "'kind', got ''", id="kind-empty"),
        pytest.param({"params": {}}, "'kind', got None", id="kind-missing"),
        pytest.param(
            {"kind": "k", "actor": 4111111111111111},
            "'actor' must be a string, got int",
            id="actor",
        ),
        pytest.param({"kind": "k", "tenant": ["jo@example.com"]}, "got list", id="tenant"),
    ],
)
def test_wrong_values_are_named_by_type_not_quoted(
    guard: Guard, action: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidAction, match=message) as info:
        guard.check(action)
    assert "4111" not in str(info.value) and "jo@" not in str(info.value)
