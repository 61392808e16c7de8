"""The decorators as a new user meets them with odd inputs, in process and through the
sidecar alike: methods stacked on @classmethod / @staticmethod, scores in tuples and other
containers, numbers that are not floats, options misspelt or given without their names,
an observation passed by keyword, malformed proposals (refused without quoting their
actions), and shadow mode's results (copies, as in enforce mode)."""

from __future__ import annotations

import asyncio
import copy
import inspect
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from pydantic import BaseModel

from guard import ActionBlocked, Guard, InvalidAction, PolicyError
from guard.audit import open_audit
from guard.client import GuardClient, RemoteGuard
from guard.policy import parse
from tests.service.conftest import (  # noqa: F401 - fixtures
    PACK,
    client,
    make_client,
    pack_file,
    settings,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the 'timeout' argument with the TestClient"
)

Guards = tuple[Guard, RemoteGuard]
SHELL = {"kind": "run_shell", "params": {}}


def pay(amount: Any) -> dict[str, Any]:
    return {"kind": "pay", "params": {"amount": amount}}


@pytest.fixture
def guards(client: Any, pack_file: Path) -> Iterator[Guards]:  # noqa: F811
    with Guard.from_policy(pack_file) as local:
        yield local, RemoteGuard("", client=GuardClient("http://testserver", client=client))


def _run(out: Any) -> Any:
    return asyncio.run(out) if inspect.iscoroutine(out) else out


def test_an_agent_stacked_on_classmethod_or_staticmethod_is_enforced(guards: Guards) -> None:
    seen: list[tuple[Any, ...]] = []

    def who(*args: Any) -> dict[str, Any]:
        seen.append(args)
        return {"role": "agent"}

    for guard in guards:
        seen.clear()

        class Policy:
            @guard.agent(context=who)
            @classmethod
            def by_class(cls, amount: int) -> Any:
                return [(SHELL, 0.9), (pay(amount), 0.1)]

            @guard.agent
            @classmethod
            async def by_class_async(cls, amount: int) -> Any:
                return pay(amount)

            @guard.agent
            @staticmethod
            def static(amount: int) -> Any:
                return pay(amount)

            @guard.agent
            @staticmethod
            async def static_async(amount: int) -> Any:
                return pay(amount)

            @guard.ranker
            @classmethod
            def ranked(cls) -> Any:
                return [{"id": 1, "status": "suspended"}, {"id": 2}]

        policy = Policy()
        assert Policy.by_class(3) == pay(3)
        assert seen == [(Policy, 3)]  # the context callable is given cls, as a method's self
        assert policy.by_class(3).decision.substitution.chosen_index == 1
        for call in (
            Policy.by_class_async,
            policy.by_class_async,
            Policy.static,
            policy.static,
            Policy.static_async,
            policy.static_async,
        ):
            assert _run(call(4)) == pay(4)
        assert inspect.iscoroutinefunction(Policy.by_class_async)
        assert inspect.iscoroutinefunction(policy.static_async)
        assert list(inspect.signature(Policy.static).parameters) == ["amount"]
        assert Policy.ranked() == [{"id": 2}]
        with pytest.raises(ActionBlocked):
            Policy.static(20000)


ACTIONS = [pay(1), SHELL, pay(2)]


@pytest.mark.parametrize(
    "scores",
    [(0.1, 0.9, 0.3), ((0.1, 0.9, 0.3),), [(0.1, 0.9, 0.3)]],
    ids=["tuple", "tuple-batch", "list-of-tuple-batch"],
)
def test_scores_given_as_a_tuple_are_read_as_a_list_would_be(guards: Guards, scores: Any) -> None:
    for guard in guards:
        out = guard.agent(actions=ACTIONS)(lambda: scores)()
        assert out == pay(2)  # the shell command scored best and was denied
        assert out.decision.substitution.chosen_index == 2


def test_a_longdouble_score_vector_is_read(guards: Guards) -> None:
    scores = np.array([0.1, 0.9, 0.3], dtype=np.longdouble)
    for guard in guards:
        assert guard.agent(actions=ACTIONS)(lambda: scores)() == pay(2)


@pytest.mark.parametrize(
    ("proposal", "declared", "message"),
    [
        (
            [(pay(1), np.array([0.5, 0.2]))],
            None,
            "alternative #0 must be a number, got an array of shape (2,)",
        ),
        (
            [(pay(1), torch.zeros(0))],
            None,
            "alternative #0 must be a number, got an array of shape (0,)",
        ),
        (
            [(pay(1), 10**400)],
            None,
            "alternative #0 is an integer of 1329 bits, too large for a float",
        ),
        ([10**400, 1, 2], ACTIONS, "score #0 is an integer of 1329 bits, too large for a float"),
    ],
    ids=["numpy-pair", "torch-empty", "int-pair", "int-vector"],
)
def test_a_score_that_is_no_one_number_is_refused_as_such(
    guards: Guards, proposal: Any, declared: Any, message: str
) -> None:
    for guard in guards:
        with pytest.raises(InvalidAction) as info:
            guard.agent(actions=declared)(lambda: proposal)()
        assert str(info.value) == message


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        (
            (a for a in ACTIONS),
            "actions= must be a list of the actions the scores are over, got generator",
        ),
        ({"pay": pay(1)}, "actions= must be a list of the actions the scores are over, got dict"),
        ("pay", "actions= must be a list of the actions the scores are over, got str"),
        ([pay(1), "run_shell"], "actions[1]: action must be a mapping (dict), got str"),
        ([pay(1), {"params": {}}], "actions[1]: action needs a non-empty string 'kind', got None"),
    ],
    ids=["generator", "dict", "str", "a-kind-name", "no-kind"],
)
def test_declared_actions_that_are_not_a_list_of_actions_are_refused_when_decorating(
    declared: Any, message: str
) -> None:
    guard = Guard([parse(PACK)])
    with pytest.raises(InvalidAction) as info:
        guard.agent(actions=declared)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "declared", [(a for a in ACTIONS), {"pay": pay(1)}], ids=["generator", "dict"]
)
def test_declared_actions_that_are_not_a_list_are_refused_by_the_remote_agent(
    guards: Guards, declared: Any
) -> None:
    with pytest.raises(InvalidAction, match=r"^actions= must be a list of the actions"):
        guards[1].agent(actions=declared)(lambda: [0.1, 0.9, 0.3])()


@pytest.mark.parametrize("out", ["ab", b"ab"], ids=["str", "bytes"])
def test_a_ranker_returning_text_is_told_it_must_return_a_list(guards: Guards, out: Any) -> None:
    for guard in guards:
        with pytest.raises(InvalidAction) as info:
            guard.ranker(lambda: out)()
        assert str(info.value).startswith(
            f"a ranker must return a list of items (dicts), got {type(out).__name__}; "
        )


def test_editing_what_shadow_mode_hands_back_leaves_the_policys_data_as_it_was() -> None:
    declared = [pay(1), {"kind": "note", "params": {"tags": ["a"]}}]
    items = [{"id": 1, "tags": ["a"]}, {"id": 2, "status": "suspended", "tags": ["b"]}]
    kept = copy.deepcopy((declared, items))
    guard = Guard([parse(PACK)], mode="shadow")
    action = guard.agent(actions=declared)(lambda: [0.1, 0.9])()
    ranked = guard.ranker(lambda: items)()
    assert action == declared[1] and ranked == items  # shadow mode runs what was proposed
    action["params"]["tags"].append("edited")
    action["params"]["extra"] = 1
    for item in ranked:
        item["tags"].append("edited")
        item["extra"] = 1
    assert (declared, items) == kept  # as in enforce mode, what came back is a copy
    assert guard.agent(actions=declared)(lambda: [0.1, 0.9])() == kept[0][1]


def test_options_given_without_their_names_are_refused_when_decorating(guards: Guards) -> None:
    for guard in guards:
        for decorator in (guard.agent, guard.ranker):
            for positional in (ACTIONS, "svc-test"):
                with pytest.raises(InvalidAction) as info:
                    decorator(positional)  # type: ignore[call-overload]
                assert str(info.value).startswith(
                    f"a guard decorator wraps the policy function, got "
                    f"{type(positional).__name__}; give its options by name"
                )


def test_a_pack_not_loaded_is_refused_when_decorating(tmp_path: Path) -> None:
    other = PACK.replace("name: svc-test", "name: other")
    guard = Guard([parse(PACK), parse(other)])
    for decorator in (guard.agent, guard.ranker):
        with pytest.raises(PolicyError, match=r"^no loaded pack named 'svc-tset'; loaded: "):
            decorator(policy="svc-tset")
        with pytest.raises(PolicyError, match=r"^several packs are loaded \(other, svc-test\)"):
            decorator(lambda: [])
    assert guard.agent(policy="other")(lambda: pay(1))() == pay(1)


COEF = (np.array([[1.0, 2.0], [0.5, -1.0]]), np.zeros(2))
OFFERS = [{"kind": "offer", "params": {"tier": 0}}, {"kind": "offer", "params": {"tier": 1}}]


@pytest.mark.parametrize("mode", ["sync", "deferred"])
def test_an_observation_passed_by_keyword_is_explained(tmp_path: Path, mode: Any) -> None:
    """act(obs=x) was 'the guarded function got no input to explain'; act(x) was explained."""
    import explain

    audit = open_audit(f"sqlite:///{tmp_path / 'a.db'}")
    with Guard([parse("name: plain\nversion: 1\nrules: []\n")], audit=audit) as guard:
        explainer = explain.shap(COEF, np.zeros((3, 2)))

        class Policy:
            @guard.agent(actions=OFFERS, explain=explainer, explain_mode=mode)
            def act(self, obs: Any, temperature: float = 1.0) -> Any:
                return list(np.asarray(obs) @ COEF[0].T / temperature)

        for call in (
            lambda: Policy().act(np.array([1.0, 2.0])),
            lambda: Policy().act(obs=np.array([1.0, 2.0])),
            lambda: Policy().act(temperature=2.0, obs=np.array([1.0, 2.0])),
        ):
            decision = call().decision
            if mode == "deferred":
                guard.flush()
                [linked] = audit.query(ref_id=decision.id, record_type="guard.explanation/v1").items
                explanation = linked.record["explanation"]
            else:
                [explanation] = decision.explanations
            assert explanation["kind"] == "attribution", explanation
            assert explanation["inputs"] == [1.0, 2.0]


NOTE = {"kind": "note", "params": {"message": "mail jane.doe@example.com or 415-555-0199"}}


@pytest.mark.parametrize(
    ("proposal", "declared", "message"),
    [
        (
            [NOTE, pay(1)],
            None,
            "alternative #0 must be an (action, probability) pair, got dict "
            "(an action without its probability?)",
        ),
        (
            [(NOTE, 0.5, "why")],
            None,
            "alternative #0 must be an (action, probability) pair, got a tuple of 3 "
            "(dict, float, str)",
        ),
        (
            [(NOTE, 0.9), (pay(1), 0.1)],
            OFFERS,
            "expected a 1-D vector of scores (or a batch of one row), got a list of 2 "
            "(tuple, tuple)",
        ),
        ([NOTE, pay(1)], OFFERS, "score #0 must be a number, got dict"),
        ([(pay(1), NOTE["params"]["message"])], None, "alternative #0 must be a number, got str"),
    ],
    ids=["no-probability", "triple", "pairs-over-actions", "actions-over-actions", "text-score"],
)
def test_a_malformed_proposal_is_refused_without_quoting_its_actions(
    guards: Guards, proposal: Any, declared: Any, message: str
) -> None:
    """The refusal quoted the whole alternative, a message's e-mail and phone number too,
    into whatever logs the error."""
    for guard in guards:
        with pytest.raises(InvalidAction) as info:
            guard.agent(actions=declared)(lambda: proposal)()
        assert str(info.value).startswith(message)
        assert "jane" not in str(info.value) and "555" not in str(info.value)


class Task(BaseModel):
    kind: str
    params: dict[str, Any] = {}
    children: list[str] = []


def test_an_action_model_with_a_children_field_is_an_action_not_a_search_tree(
    guards: Guards,
) -> None:
    """It was read as an MCTS tree: SearchTreeError 'the root has no children'."""
    for guard in guards:
        out = guard.agent(lambda: Task(kind="note", children=["a"]))()
        assert out == {"kind": "note", "params": {}, "children": ["a"]}


class EagerTensor:
    """What a TensorFlow model returns: .shape and .numpy(), no .tolist()."""

    def __init__(self, values: Any) -> None:
        self._values = np.asarray(values)
        self.shape = self._values.shape

    def numpy(self) -> Any:
        return self._values


@pytest.mark.parametrize(
    "scores",
    [EagerTensor([0.1, 0.9, 0.3]), EagerTensor([[0.1, 0.9, 0.3]]), range(3), deque([1, 3, 2])],
    ids=["tensorflow", "tensorflow-batch", "range", "deque"],
)
def test_scores_in_other_containers_are_read(guards: Guards, scores: Any) -> None:
    """A TensorFlow tensor was 'expected a 1-D vector of scores, got shape (3,)'."""
    for guard in guards:
        out = guard.agent(actions=ACTIONS)(lambda: scores)()
        assert out == pay(2)


def test_a_score_array_of_the_wrong_shape_is_named_by_its_type_and_shape(guards: Guards) -> None:
    for guard in guards:
        with pytest.raises(InvalidAction) as info:
            guard.agent(actions=ACTIONS)(lambda: torch.zeros((3, 1)))()
        assert str(info.value) == (
            "expected a 1-D vector of scores (or a batch of one row), got Tensor of shape (3, 1)"
        )


def test_an_agent_returning_bytes_is_told_what_it_may_return(guards: Guards) -> None:
    """It was 'alternative #0 must be an (action, probability) pair, got int'."""
    for guard in guards:
        with pytest.raises(InvalidAction) as info:
            guard.agent(lambda: b'{"kind": "pay"}')()
        assert str(info.value).startswith("a guarded agent must return an action (dict), a ")
        assert str(info.value).endswith("; got bytes")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"explain": "captum"},
            "explain= must be an explainer (explain.captum(...), explain.shap(...)) or a "
            "callable given the call's arguments, got str",
        ),
        ({"action_of": {0: pay(1)}}, "action_of= must be a callable, got dict"),
    ],
    ids=["explain", "action_of"],
)
def test_an_explainer_or_action_of_that_cannot_be_called_is_refused_when_decorating(
    options: dict[str, Any], message: str
) -> None:
    """explain='captum' let every action run with 'TypeError: str object is not callable'
    recorded as its explanation."""
    guard = Guard([parse(PACK)])
    with pytest.raises(InvalidAction) as info:
        guard.agent(**options)(lambda obs: pay(1))
    assert str(info.value) == message
