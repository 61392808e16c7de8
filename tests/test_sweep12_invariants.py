"""Property-based checks of the guard's contract over random packs, actions and rankings.

Packs are drawn from a grammar of the documented rule language (match kinds, the three
scopes, conditions over registered functions, effects, caps, redact paths, on_error and
defaults); actions, contexts and rankings are random JSON-like data with unicode, numbers
at the JSON limits, missing fields and wrong types. Each test states one invariant.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guard import ActionBlocked, ActionEscalated, Guard, GuardError, Verdict
from guard._engine import _NO_SCAN
from guard._evaluate import run_rules
from guard._models import RANK, Decision
from guard.audit import AuditLog, open_audit, verify_head
from guard.policy import CompiledPack, parse

SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
VERDICTS = ["allow", "redact", "escalate", "deny"]
KINDS = ["pay", "send", "ünï"]
MAX_INT = 2**53 - 1

# -- packs --------------------------------------------------------------------------------

ACTION_ATOMS = [
    "params.amount > 500",
    "get(params.amount, 0) >= 100",
    'context.role == "admin"',
    'get(context.role, "agent") not in ["finance", "admin"]',
    "has(params.secret)",
    "len(params.message) > 5",
    'contains_any(params.message, ["kill", "ß"])',
    'matches(params.message, "a+b")',
    'startswith(lower(params.to), "x")',
    'actor == "u1"',
    'kind in ["pay", "send"]',
    "params.amount / params.n > 1",
    "any(x > 1 for x in params.list)",
    'str(params.amount) == "1"',
    "abs(params.amount) < 5",
    'domain(params.url) == "example.com"',
    "params.flag",
    "(1 if params.flag else 0) == 1",
    "max(params.list) > 3",
    "params.nested.deep == 1",
    'params["content-type"] == "x"',
    "score > 0.5",
    "tenant is None",
    "true",
    "false",
]
RATE_ATOMS = ["rate(str(actor), 60) > 2", "total(str(actor), get(params.amount, 0), 60) > 1000"]
ITEM_ATOMS = [
    'item.status == "suspended"',
    'get(item.status, "active") == "suspended"',
    "score > 0.5",
    "item.price > 10",
    "len(items) > 3",
    "has(item.secret)",
    'context.role == "admin"',
    'contains_any(get(item.title, ""), ["kill"])',
    'actor == "u1"',
    "true",
]
ACTION_MESSAGES = ["", "amount {params.amount}", "to {params.to} by {actor}"]
ITEM_MESSAGES = ["", "status {item.status}"]
ACTION_REDACT = ["params.secret", "params.message", "actor", "params.list[0]", "params.nested.deep"]
ITEM_REDACT = ["item.secret", "item.title"]
CAP_BY = ["item.group", "item.agency", "item.nested.g"]


def conditions(atoms: list[str]) -> st.SearchStrategy[str]:
    leaf = st.sampled_from(atoms)
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            inner.map(lambda e: f"not ({e})"),
            st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(
                lambda t: f"({t[0]}) {t[1]} ({t[2]})"
            ),
        ),
        max_leaves=3,
    )


@st.composite
def rule_specs(draw: Any, index: int, rate: bool) -> dict[str, Any]:
    scope = draw(st.sampled_from(["action", "action", "item", "list"]))
    rule: dict[str, Any] = {"id": f"r{index}"}
    if scope != "action" or draw(st.booleans()):
        rule["scope"] = scope
    if scope == "list":
        rule["cap"] = {"by": draw(st.sampled_from(CAP_BY)), "max": draw(st.integers(0, 2))}
        rule["effect"] = draw(st.sampled_from(["deny", "escalate"]))
        return rule
    if scope == "action":
        atoms = ACTION_ATOMS + (RATE_ATOMS if rate else [])
        if draw(st.booleans()):
            kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=2, unique=True))
            rule["match"] = {"kind": kinds[0] if len(kinds) == 1 else kinds}
        rule["message"] = draw(st.sampled_from(ACTION_MESSAGES))
        paths = ACTION_REDACT
    else:
        atoms, paths = ITEM_ATOMS, ITEM_REDACT
        rule["message"] = draw(st.sampled_from(ITEM_MESSAGES))
    rule["when"] = draw(conditions(atoms))
    if draw(st.booleans()):
        rule["effect"] = draw(st.sampled_from(VERDICTS))
    if draw(st.booleans()):
        rule["on_error"] = draw(st.sampled_from(VERDICTS))
    if draw(st.booleans()):
        rule["redact"] = draw(st.lists(st.sampled_from(paths), max_size=2, unique=True))
    return rule


@st.composite
def packs(draw: Any, rate: bool = True) -> CompiledPack:
    n = draw(st.integers(0, 5))
    spec: dict[str, Any] = {
        "name": "p",
        "version": draw(st.integers(1, 9)),
        "rules": [draw(rule_specs(i, rate)) for i in range(n)],
    }
    defaults = {}
    if draw(st.booleans()):
        defaults["verdict"] = draw(st.sampled_from(VERDICTS))
    if draw(st.booleans()):
        defaults["on_error"] = draw(st.sampled_from(VERDICTS))
    if defaults:
        spec["defaults"] = defaults
    # JSON is YAML: every text is quoted, nothing is read differently by YAML 1.1 and 1.2
    return parse(json.dumps(spec, ensure_ascii=False))


# -- inputs -------------------------------------------------------------------------------

numbers = st.one_of(
    st.integers(-MAX_INT, MAX_INT),
    st.sampled_from([0, 1, -1, 5, 500, 501, MAX_INT, -MAX_INT, 2, 1.0, -0.0, 0.5]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1.7976931348623157e308, 5e-324, 1e-7, 1e16]),
)
texts = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["aab", "kill", "STRASSE", "xyz", "https://example.com/a", "ß", "\u2028"]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=6,
)


class Opaque:
    """A value that is not JSON; copies of it are itself."""

    def __deepcopy__(self, memo: Any) -> Opaque:
        return self


# what JSON does not hold: the guard refuses it
bad_values = st.sampled_from(
    [2**53, -(2**64), float("nan"), float("inf"), b"x", {1, 2}, "\ud800", Opaque()]
)
values = st.one_of(json_values, json_values, json_values, bad_values)
PARAM_KEYS = [
    "amount", "n", "message", "to", "secret", "list", "url", "flag", "nested", "content-type",
]  # fmt: skip


@st.composite
def params_(draw: Any) -> dict[str, Any]:
    keys = draw(st.lists(st.sampled_from(PARAM_KEYS), max_size=6, unique=True))
    out = {}
    for key in keys:
        if key == "nested" and draw(st.booleans()):
            out[key] = {"deep": draw(st.sampled_from([1, 1.0, True, "1", None]))}
        elif key == "list" and draw(st.booleans()):
            out[key] = draw(st.lists(numbers, max_size=4))
        else:
            out[key] = draw(values)
    return out


@st.composite
def actions(draw: Any, valid_kind: bool = False) -> Any:
    action: dict[str, Any] = {}
    kinds = st.sampled_from(KINDS)
    kind = draw(kinds if valid_kind else st.one_of(kinds, kinds, st.sampled_from(["", 7, None])))
    if kind is not None:
        action["kind"] = kind
    for field in ("actor", "tenant"):
        choice = draw(st.sampled_from(["absent", "none", "u1", "u2", "text", "wrong"]))
        if choice == "none":
            action[field] = None
        elif choice in ("u1", "u2"):
            action[field] = choice
        elif choice == "text":
            action[field] = draw(st.text(max_size=5))
        elif choice == "wrong":
            action[field] = draw(st.sampled_from([5, ["u1"], True]))
    if draw(st.integers(0, 9)) > 0:
        action["params"] = draw(params_())
    else:
        action["params"] = draw(st.sampled_from([None, [], "x", 3]))
    if draw(st.booleans()):
        action[draw(texts)] = draw(json_values)
    return action


@st.composite
def contexts(draw: Any) -> Any:
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return None
    if choice == 1:
        return draw(st.sampled_from([[1], "ctx", 3]))  # not a mapping
    ctx = {}
    if draw(st.booleans()):
        ctx["role"] = draw(st.one_of(st.sampled_from(["admin", "finance", "agent"]), values))
    if draw(st.booleans()):
        ctx["score"] = draw(st.one_of(numbers, st.none(), texts))
    if draw(st.booleans()):
        ctx.update(draw(st.dictionaries(texts, json_values, max_size=2)))
    return ctx


@st.composite
def items_(draw: Any) -> list[Any]:
    n = draw(st.integers(0, 6))
    rows = []
    for i in range(n):
        row: dict[str, Any] = {}
        id_choice = draw(st.integers(0, 9))
        if id_choice < 7:
            row["id"] = f"i{i}"
        elif id_choice == 7:
            row["id"] = i + 100
        elif id_choice == 8:
            row["id"] = draw(st.sampled_from(["i0", 0, 1.5]))  # may clash or be a wrong type
        for key, strat in (
            ("status", st.sampled_from(["active", "suspended", 5])),
            ("score", st.one_of(numbers, st.none(), texts)),
            ("price", st.one_of(numbers, texts)),
            ("group", st.sampled_from(["a", "b", 1, 1.0, True, None])),
            ("agency", st.sampled_from(["x", "X", "y"])),
            ("nested", st.sampled_from([{"g": 1}, {"g": "1"}, "flat", {}])),
            ("secret", values),
            ("title", texts),
        ):
            if draw(st.booleans()):
                row[key] = draw(strat)
        rows.append(row)
    return rows


# -- helpers ------------------------------------------------------------------------------


def snapshot(value: Any) -> Any:
    """A deep copy and a text that tells 1 from 1.0 and True, to compare after the call."""
    return copy.deepcopy(value), repr(value)


def unchanged(before: Any, after: Any) -> bool:
    copied, text = before
    return repr(after) == text and (copied == after or copied != copied)


def rule_of(pack: CompiledPack, rule_id: str) -> Any:
    return next(r for r in pack.rules if r.id == rule_id)


def expected_verdict(decision: Decision, pack: CompiledPack) -> Verdict:
    best = max((h.effect for h in decision.hits), key=RANK.__getitem__, default=None)
    return pack.defaults_verdict if best is None else best


def check_hits(pack: CompiledPack, decision: Decision, kind: str) -> None:
    for hit in decision.hits:
        rule = rule_of(pack, hit.rule_id)
        assert rule.scope == "action"
        assert rule.kinds is None or kind in rule.kinds, "a rule matched another kind"
        if hit.error is not None:  # invariant 1: an error follows on_error
            assert hit.effect is rule.on_error
            assert RANK[decision.verdict] >= RANK[rule.on_error]
        else:
            assert hit.effect is rule.effect


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditLog]:
    log = open_audit(f"sqlite:///{tmp_path / 'audit.db'}")
    yield log
    log.close()


# -- invariants 1-4: check ----------------------------------------------------------------


@SETTINGS
@given(packs(), actions(), contexts())
def test_check_follows_the_contract(pack: CompiledPack, action: Any, context: Any) -> None:
    g = Guard([pack])
    before, ctx_before = snapshot(action), snapshot(context)
    try:
        d = g.check(action, context)
    except GuardError:
        d = None
    # 2: the caller's data is never changed
    assert unchanged(before, action) and unchanged(ctx_before, context)
    if d is None:
        return
    kind = action["kind"]
    # 3: the digest is SHA-256 of the sorted, compact JSON of the action as given
    raw = orjson.dumps(action, option=orjson.OPT_SORT_KEYS)
    assert json.loads(raw) == action or action != action
    assert d.action_digest == "sha256:" + hashlib.sha256(raw).hexdigest()
    # 1 and 4: errors follow on_error; deny > escalate > redact > allow > default
    check_hits(pack, d, kind)
    assert d.verdict is expected_verdict(d, pack)
    if d.verdict is Verdict.DENY:
        assert d.final_action is None
    else:
        assert d.final_action is not None and d.final_action.get("kind") == kind
        if d.verdict is Verdict.ALLOW:
            assert d.final_action == action
    # the decision shares no object with the input: changing it changes nothing there
    if d.final_action is not None:
        _scribble(d.final_action)
    for hit in d.hits:
        _scribble(hit.evidence)
    assert unchanged(before, action) and unchanged(ctx_before, context)


def _scribble(value: Any) -> None:
    """Change every container inside `value`."""
    if isinstance(value, dict):
        for v in list(value.values()):
            _scribble(v)
        value["__scribbled__"] = 1
    elif isinstance(value, list):
        for v in value:
            _scribble(v)
        value.append("__scribbled__")


@SETTINGS
@given(packs(rate=False), actions(valid_kind=True), contexts())
def test_the_fast_plan_gives_the_hits_of_the_closures(
    pack: CompiledPack, action: Any, context: Any
) -> None:
    """Hits as `check` reports them equal those of each rule evaluated on its own."""
    g = Guard([pack])
    try:
        d = g.check(action, context)
    except GuardError:
        return
    rules = tuple(pack.action_rules(action["kind"]))  # a plain tuple: no plan
    env = g._env(pack, action, context or {}, _NO_SCAN, None)
    exact = run_rules(rules, env)
    assert [h.model_dump() for h in d.hits] == [h.model_dump() for h in exact]


# -- invariant 1 through the decorator ----------------------------------------------------


@SETTINGS
@given(packs(), st.lists(st.tuples(actions(), st.floats(0, 1)), min_size=1, max_size=3))
def test_the_agent_decorator_never_returns_a_refused_action(
    pack: CompiledPack, proposal: list[tuple[Any, float]]
) -> None:
    g = Guard([pack])
    before = snapshot(proposal)
    single = len(proposal) == 1

    @g.agent
    def policy() -> Any:
        return proposal[0][0] if single else proposal

    try:
        out = policy()
    except (ActionBlocked, ActionEscalated) as exc:
        d = exc.decision
        assert d.verdict in (Verdict.DENY, Verdict.ESCALATE)
        check_hits(pack, d, d.kind)
    except GuardError:
        pass
    else:
        d = out.decision
        assert d.verdict in (Verdict.ALLOW, Verdict.REDACT)
        assert d.verdict is expected_verdict(d, pack)
        check_hits(pack, d, d.kind)
        assert dict(out) == d.final_action
        if d.substitution is None:  # the first choice ran
            first = max(range(len(proposal)), key=lambda i: (proposal[i][1], -i))
            assert d.action_digest == _digest(proposal[first][0])
        else:
            chosen = proposal[d.substitution.chosen_index][0]
            assert d.action_digest == _digest(chosen)
            assert all(r["verdict"] == "deny" for r in d.substitution.rejected)
    assert unchanged(before, proposal)


def _digest(action: Any) -> str:
    return "sha256:" + hashlib.sha256(orjson.dumps(action, option=orjson.OPT_SORT_KEYS)).hexdigest()


# -- invariant 5: the audit log -----------------------------------------------------------


@SETTINGS
@given(packs(), st.lists(st.tuples(actions(), contexts()), min_size=1, max_size=4))
def test_every_decision_is_in_the_log_and_proved(
    audit: AuditLog, pack: CompiledPack, calls: list[tuple[Any, Any]]
) -> None:
    g = Guard([pack], audit=audit)
    decisions = []
    for action, context in calls:
        size = audit.size
        try:
            decisions.append(g.check(action, context))
        except GuardError:
            assert audit.size == size, "a refused action left a record"
    for d in decisions:
        assert d.audited
        stored = audit.get(d.id).record
        assert stored["verdict"] == d.verdict.value
        assert stored["action_digest"] == d.action_digest
    report = audit.verify()
    head = audit.head()
    assert verify_head(head, audit.public_key_hex)
    assert (report.size, report.root) == (head.size, head.root)
    for d in decisions:
        proof = audit.inclusion(d.id, tree_size=head.size)
        assert proof.verify() and proof.root == head.root


# -- invariant 6: check_batch is check one by one -----------------------------------------


def _outcome(d: Decision) -> tuple[Any, ...]:
    hits = [(h.rule_id, h.effect, h.message, h.error, h.evidence) for h in d.hits]
    return d.verdict, hits, d.final_action, d.action_digest


@SETTINGS
@given(packs(rate=False), st.lists(actions(), min_size=1, max_size=5), contexts())
def test_check_batch_decides_as_check_does(
    pack: CompiledPack, batch: list[Any], context: Any
) -> None:
    g = Guard([pack])
    try:
        together = g.check_batch(batch, context)
    except GuardError as exc:
        # refused as a whole: one of them (or the context) is refused alone too
        with pytest.raises(GuardError):
            for action in batch:
                g.check(action, context)
        assert exc is not None
        return
    alone = [g.check(a, context) for a in batch]
    assert [_outcome(d) for d in together] == [_outcome(d) for d in alone]


# -- invariant 7: rank --------------------------------------------------------------------


@SETTINGS
@given(packs(), items_(), contexts(), st.sampled_from([None, "u1", "u2"]))
def test_rank_keeps_order_gives_reasons_and_holds_caps(
    pack: CompiledPack, items: list[Any], context: Any, actor: Any
) -> None:
    g = Guard([pack])
    before, ctx_before = snapshot(items), snapshot(context)

    @g.ranker(context=context)
    def ranked() -> list[Any]:
        return items

    try:
        d = g.rank(items, context, actor=actor)
        out = ranked()
    except GuardError:
        return
    finally:
        assert unchanged(before, items) and unchanged(ctx_before, context)
    outcomes = d.items or []
    assert [o.rank for o in outcomes] == list(range(len(items)))
    kept = [o for o in outcomes if o.verdict in (Verdict.ALLOW, Verdict.REDACT)]
    dropped = [o for o in outcomes if o not in kept]
    # survivors keep their relative order, and are what runs
    assert d.final_action["params"]["item_ids"] == [o.id for o in kept]
    assert len(d.final_items or []) == len(kept)
    for o, row in zip(kept, d.final_items or [], strict=True):
        original = items[o.rank]
        if o.verdict is Verdict.ALLOW:
            assert row == original
        assert row.get("id") == original.get("id")
    # the decorator ranks with no actor: it runs what the guard keeps for no actor
    assert list(out) == (g.rank(items, context).final_items or [])
    # a dropped item has a reason and the rules that dropped it
    for o in dropped:
        assert o.reason and o.rule_ids
    # verdict of the ranking
    if items and not kept:
        assert d.verdict is Verdict.DENY
    elif all(o.verdict is Verdict.ALLOW for o in outcomes):
        assert d.verdict is Verdict.ALLOW
    else:
        assert d.verdict is Verdict.REDACT
    # caps hold, and a cap drops only the excess: as many survivors before it share its group
    for rule in pack.list_rules:
        assert rule.cap is not None
        groups: dict[str, int] = {}
        for o in outcomes:
            group = _group(items[o.rank], rule.cap.by)
            if group is None:
                continue
            if o.verdict in (Verdict.ALLOW, Verdict.REDACT):
                groups[group] = groups.get(group, 0) + 1
                assert groups[group] <= rule.cap.max
            elif rule.id in o.rule_ids:
                assert groups.get(group, 0) == rule.cap.max, "a cap dropped an item under it"


def _group(row: dict[str, Any], by: str) -> str | None:
    value: Any = {"item": row}
    for step in by.split("."):
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    if value is None:
        return None
    if type(value) is float and value.is_integer():
        value = int(value)
    return json.dumps(value, sort_keys=True)


def test_an_item_one_cap_drops_is_not_counted_by_another_cap() -> None:
    """Item a is dropped by the city cap: it is not a survivor of agency X, so b (agency X)
    is under the agency cap of 1 and stays (it was dropped as over it)."""
    pack = parse(
        json.dumps(
            {
                "name": "p",
                "version": 1,
                "rules": [
                    {"id": "agency", "scope": "list", "cap": {"by": "item.agency", "max": 1}},
                    {"id": "city", "scope": "list", "cap": {"by": "item.city", "max": 0}},
                ],
            }
        )
    )
    d = Guard([pack]).rank([{"id": "a", "agency": "X", "city": "C"}, {"id": "b", "agency": "X"}])
    assert [(o.id, o.verdict, o.rule_ids) for o in d.items or []] == [
        ("a", Verdict.DENY, ["city"]),
        ("b", Verdict.ALLOW, []),
    ]
    assert d.final_items == [{"id": "b", "agency": "X"}]


def test_the_proof_of_a_record_with_a_large_whole_float_verifies(audit: AuditLog) -> None:
    g = Guard([parse('{"name": "p", "version": 1}')], audit=audit)
    d = g.check({"kind": "pay", "params": {"amount": 1e16}})
    assert audit.inclusion(d.id).verify()
