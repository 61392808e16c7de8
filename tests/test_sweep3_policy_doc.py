"""docs/policy-language.md, claim by claim: its examples run as written and its notes hold."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from guard import Guard, Verdict

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "policy-language.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC, re.S)


def _block(start: str) -> str:
    (found,) = [b for b in BLOCKS if b.startswith(start)]
    return found


def _pack(tmp_path: Path, rules: str, extra: str = "") -> Path:
    path = tmp_path / "t.yaml"
    path.write_text(f"name: t\nversion: 1\n{extra}rules:\n{rules}", encoding="utf-8")
    return path


def _guard(tmp_path: Path, rules: str, extra: str = "") -> Guard:
    return Guard.from_policy(_pack(tmp_path, rules, extra))


def test_the_scope_example_and_the_test_file_example_pass_together(tmp_path: Path) -> None:
    rules = yaml.safe_load(_block("rules:\n"))["rules"]
    rules.append(
        {
            "id": "messaging-rate-limit",
            "match": {"kind": "send_message"},
            "when": "rate(str(actor), 60) > 20",
        }
    )
    pack = {"name": "doc", "version": 3, "rules": rules}
    (tmp_path / "doc.yaml").write_text(yaml.safe_dump(pack, sort_keys=False), encoding="utf-8")
    (tmp_path / "doc.test.yaml").write_text(_block("cases:\n"), encoding="utf-8")
    run = subprocess.run(
        [str(Path(sys.executable).parent / "guard"), "policy", "test", str(tmp_path / "doc.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3/3 cases" in run.stdout


def test_the_evidence_example_is_what_the_payment_rule_records(tmp_path: Path) -> None:
    rules = yaml.safe_load(_block("rules:\n"))["rules"][:1]
    g = Guard.from_policy(_pack(tmp_path, yaml.safe_dump(rules)))
    d = g.check(
        {"kind": "release_payment", "actor": "u1", "params": {"amount": 700}}, {"role": "agent"}
    )
    hit = d.hits[0]
    assert (hit.rule_id, hit.effect, hit.message) == (
        "payment-needs-approval",
        Verdict.ESCALATE,
        "payment of 700 needs approval",
    )
    assert hit.evidence == {"params.amount": 700, 'get(context.role, "agent")': "agent"}


def test_item_status_on_an_item_without_it_fails_closed_and_drops_it(tmp_path: Path) -> None:
    g = _guard(tmp_path, '  - {id: s, scope: item, when: item.status == "suspended"}\n')
    d = g.rank([{"id": "a", "status": "suspended"}, {"id": "b"}])
    assert d.final_items == []
    assert [h.error for h in d.hits] == [None, "missing field 'item.status'"]


@pytest.mark.parametrize(
    ("condition", "hits"),
    [
        ("has(params.n)", True),
        ("get(params.n, 5) is None", True),
        ("get(params.zz, 5) == 5", True),
        ('str(None) == "null"', True),
        ('str(true) == "true"', True),
        ("{1, 2} == {2, 1}", True),
    ],
)
def test_null_get_has_str_and_set_literals(tmp_path: Path, condition: str, hits: bool) -> None:
    g = _guard(
        tmp_path,
        f"  - id: x\n    when: {yaml.safe_dump(condition, default_style=chr(39)).strip()}\n",
    )
    d = g.check({"kind": "k", "params": {"n": None}})
    assert bool(d.hits) is hits and all(h.error is None for h in d.hits)


@pytest.mark.parametrize("condition", ["params.zz is None", "not params.zz"])
def test_a_missing_field_is_an_error_even_under_is_none_and_not(
    tmp_path: Path, condition: str
) -> None:
    g = _guard(tmp_path, f"  - id: x\n    when: {condition}\n    effect: allow\n")
    d = g.check({"kind": "k", "params": {}})
    assert d.verdict is Verdict.DENY
    assert d.hits[0].error == "missing field 'params.zz'"
    assert d.hits[0].message == "rule could not be evaluated: missing field 'params.zz'"


def test_a_string_false_is_truthy_and_the_documented_comparison_is_not(tmp_path: Path) -> None:
    g = _guard(
        tmp_path,
        "  - {id: naive, when: 'not get(context.has_contract, false)'}\n"
        "  - {id: strict, when: 'get(context.has_contract, false) != true'}\n",
    )
    d = g.check({"kind": "k"}, {"has_contract": "false"})
    assert [h.rule_id for h in d.hits] == ["strict"]


def test_score_is_null_where_item_score_is_missing(tmp_path: Path) -> None:
    g = _guard(tmp_path, "  - {id: s, scope: item, when: score is None, effect: redact}\n")
    d = g.rank([{"id": "a"}])
    assert [h.error for h in d.hits] == [None]


def test_action_rules_skip_rankings_and_item_rules_skip_checks(tmp_path: Path) -> None:
    g = _guard(
        tmp_path,
        "  - {id: a, when: 'true'}\n"
        "  - {id: i, scope: item, when: 'true'}\n"
        "  - {id: c, scope: list, cap: {by: item.g, max: 0}}\n",
    )
    assert [h.rule_id for h in g.check({"kind": "k"}).hits] == ["a"]
    assert {h.rule_id for h in g.rank([{"id": "x"}]).hits} == {"i"}


def test_a_cap_skips_items_without_the_field_or_with_null(tmp_path: Path) -> None:
    g = _guard(tmp_path, "  - {id: c, scope: list, cap: {by: item.agency_id, max: 1}}\n")
    missing = g.rank([{"id": "a"}, {"id": "b"}])
    assert [i["id"] for i in missing.final_items or []] == ["a", "b"]
    nulls = g.rank([{"id": "a", "agency_id": None}, {"id": "b", "agency_id": None}])
    assert [i["id"] for i in nulls.final_items or []] == ["a", "b"]


def test_a_cap_groups_by_json_value(tmp_path: Path) -> None:
    g = _guard(tmp_path, "  - {id: c, scope: list, cap: {by: item.agency_id, max: 1}}\n")
    d = g.rank([{"id": "a", "agency_id": 1}, {"id": "b", "agency_id": 1.0}])
    assert [i["id"] for i in d.final_items or []] == ["a"]
    (hit,) = [h for h in d.hits if h.rule_id == "c"]
    assert hit.message == "item.agency_id = 1.0 may have 1 item; this one is over the cap"
    apart = g.rank([{"id": "a", "agency_id": 1}, {"id": "b", "agency_id": True}])
    assert [i["id"] for i in apart.final_items or []] == ["a", "b"]


def test_placeholders_take_unquoted_keys(tmp_path: Path) -> None:
    g = _guard(
        tmp_path, "  - {id: m, when: 'true', message: '{params[content-type]} {params.tags[-1]}'}\n"
    )
    d = g.check({"kind": "k", "params": {"content-type": "json", "tags": [1, 2]}})
    assert d.hits[0].message == "json 2"


def test_rate_counts_only_when_evaluated_and_needs_a_key(tmp_path: Path) -> None:
    g = _guard(
        tmp_path,
        "  - {id: r, when: 'get(params.go, false) and rate(str(actor), 60) > 1'}\n"
        "  - {id: k, when: 'rate(actor, 60) > 100'}\n",
    )
    for _ in range(3):
        g.check({"kind": "k", "actor": "u", "params": {}})
    d = g.check({"kind": "k", "actor": "u", "params": {"go": True}})
    assert [h.rule_id for h in d.hits] == []
    d = g.check({"kind": "k", "params": {}})
    assert [(h.rule_id, h.error) for h in d.hits] == [
        ("k", "rate() needs a string or integer key, got null")
    ]


def test_domain_refuses_a_url_clients_read_two_ways(tmp_path: Path) -> None:
    g = _guard(tmp_path, "  - {id: d, when: 'domain(params.url) == \"docs.python.org\"'}\n")
    d = g.check({"kind": "k", "params": {"url": "https://docs.python.org\\@evil.com/x"}})
    assert [h.rule_id for h in d.hits] == ["d"] and "backslash" in (d.hits[0].error or "")
    shipped = Guard.from_policy(ROOT / "policies" / "agent-tools.yaml")
    d = shipped.check(
        {"kind": "fetch_url", "params": {"url": "https://docs.python.org\\@evil.com/x"}}
    )
    assert d.verdict is Verdict.DENY
