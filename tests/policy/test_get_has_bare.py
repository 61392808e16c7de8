"""has()/get() of a bare name: actor and tenant may be absent; every other name is a slip."""

from __future__ import annotations

from pathlib import Path

import pytest

from guard import Guard, PolicyError

PACK = """\
name: bare
version: 1
rules:
  - id: r
    when: {when}
    effect: deny
"""


def _guard(tmp_path: Path, when: str) -> Guard:
    path = tmp_path / "bare.yaml"
    path.write_text(PACK.format(when=when), encoding="utf-8")
    return Guard.from_policy(str(path))


@pytest.mark.parametrize(
    ("when", "action", "fires"),
    [
        pytest.param("has(actor)", {"kind": "k"}, False, id="has-actor-absent"),
        pytest.param("has(actor)", {"kind": "k", "actor": None}, False, id="has-actor-null"),
        pytest.param("has(actor)", {"kind": "k", "actor": "bob"}, True, id="has-actor"),
        pytest.param("not has(tenant)", {"kind": "k"}, True, id="has-tenant-absent"),
        pytest.param("not has(tenant)", {"kind": "k", "tenant": "t1"}, False, id="has-tenant"),
        pytest.param("get(actor, 'anon') == 'anon'", {"kind": "k"}, True, id="get-actor-default"),
        pytest.param(
            "get(actor, 'anon') == 'anon'", {"kind": "k", "actor": "bob"}, False, id="get-actor"
        ),
        pytest.param("get(tenant, 'x') == 't1'", {"kind": "k", "tenant": "t1"}, True, id="get-t"),
    ],
)
def test_actor_and_tenant_may_be_absent(
    tmp_path: Path, when: str, action: dict[str, object], fires: bool
) -> None:
    decision = _guard(tmp_path, when).check(action)
    assert [h.rule_id for h in decision.hits] == (["r"] if fires else [])
    assert all(h.error is None for h in decision.hits)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        pytest.param('get(item, "status") == "x"', "get(item) returns item itself", id="get-item"),
        pytest.param(
            'get(params, "s") == "x"', "name a field: get(params.amount, 0)", id="get-params"
        ),
        pytest.param("has(context)", "has(context) is always true", id="has-context"),
        pytest.param("has(kind)", "kind is always present", id="has-kind"),
        pytest.param("any(has(x) for x in params.l)", "has(x) is always true", id="has-local"),
    ],
)
def test_always_present_names_are_load_errors(tmp_path: Path, when: str, expected: str) -> None:
    with pytest.raises(PolicyError, match=r"bare\.yaml:5:") as info:
        _guard(tmp_path, when)
    assert expected in str(info.value)


@pytest.mark.parametrize(
    ("when", "context", "fires"),
    [
        pytest.param("has(score)", {"score": 0.5}, True, id="has-score"),
        pytest.param("has(score)", {}, False, id="has-score-absent"),
    ],
)
def test_context_names_may_be_absent(
    tmp_path: Path, when: str, context: dict[str, object], fires: bool
) -> None:
    decision = _guard(tmp_path, when).check({"kind": "k"}, context=context)
    assert bool(decision.hits) is fires
