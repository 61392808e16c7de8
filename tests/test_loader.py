from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from guard import ExpressionError, PolicyError, PolicyNotFound, Verdict
from guard.policy import load, parse

GOOD = """\
name: p
version: 1
rules:
  - id: big
    match: {kind: pay}
    when: params.amount > 5
    effect: deny
"""


def test_good_pack_compiles_with_digest_and_index() -> None:
    pack = parse(GOOD, file="p.yaml")
    assert pack.name == "p" and pack.version == 1
    assert pack.digest.startswith("sha256:") and len(pack.digest) == 71
    assert [r.id for r in pack.action_rules("pay")] == ["big"]
    assert pack.action_rules("other") == ()
    assert pack.defaults_verdict is Verdict.ALLOW and pack.on_error is Verdict.DENY


def test_digest_ignores_formatting_but_not_content() -> None:
    same = parse(GOOD.replace("{kind: pay}", "\n      kind: pay"), file="p.yaml")
    other = parse(GOOD.replace("> 5", "> 6"), file="p.yaml")
    assert parse(GOOD).digest == same.digest != other.digest


@pytest.mark.parametrize(
    ("text", "needle", "line", "column"),
    [
        pytest.param(
            GOOD.replace("effect: deny", "effect: block"),
            "unknown effect 'block' in rule 'big'; expected one of deny, escalate, redact, allow",
            7,
            13,
            id="unknown-effect",
        ),
        pytest.param(
            GOOD.replace("effect: deny", "efect: deny"),
            "unknown key 'efect' in rule 'big'",
            7,
            5,
            id="unknown-key",
        ),
        pytest.param(
            GOOD + "  - id: big\n    when: 'true'\n",
            "duplicate rule id 'big'",
            8,
            9,
            id="duplicate-rule-id",
        ),
        pytest.param(
            GOOD.replace("version: 1", "version: 1\nversion: 2"),
            "duplicate key 'version'",
            3,
            1,
            id="duplicate-key",
        ),
        pytest.param(
            GOOD.replace("params.amount > 5", "params.__class__ > 5"),
            "params.__class__",
            6,
            None,
            id="dunder",
        ),
        pytest.param(
            GOOD.replace("params.amount > 5", "evil(params) > 5"),
            "evil",
            6,
            None,
            id="unknown-function",
        ),
        pytest.param(
            GOOD.replace("params.amount > 5", "secret > 5"), "secret", 6, None, id="unknown-name"
        ),
        pytest.param(
            GOOD.replace("params.amount > 5", "'(lambda: 1)()'"), "lambda", 6, None, id="lambda"
        ),
        pytest.param(
            GOOD.replace("params.amount > 5", "params.amount >"), "", 6, None, id="syntax-error"
        ),
        pytest.param(
            "name: p\nversion: 1\nrules: [\n", "malformed YAML", None, None, id="bad-yaml"
        ),
        pytest.param("- just\n- a list\n", "must be a YAML mapping", 1, 1, id="not-a-mapping"),
        pytest.param("version: 1\n", "missing required key 'name'", None, None, id="missing-name"),
        pytest.param(
            GOOD.replace("version: 1", "version: [1]"), "invalid version", 2, 10, id="wrong-type"
        ),
        pytest.param(
            GOOD.replace("    when: params.amount > 5\n", ""),
            "needs a `when`",
            4,
            5,
            id="missing-when",
        ),
        pytest.param(
            GOOD.replace("id: big", "id: 'bad id!'"), "rule id 'bad id!'", 4, 9, id="bad-rule-id"
        ),
        pytest.param(
            GOOD.replace("  - id: big", "  - id: big\n    scope: list"),
            "needs `cap`",
            7,  # its `when`
            11,
            id="list-without-cap",
        ),
        pytest.param(
            GOOD.replace("message", "x").replace(
                "effect: deny", "effect: deny\n    message: '{secret.x}'"
            ),
            "message template names 'secret.x'",
            8,
            15,  # the placeholder's brace
            id="bad-template",
        ),
    ],
)
def test_load_errors_name_file_line_and_column(
    text: str, needle: str, line: int | None, column: int | None
) -> None:
    with pytest.raises(PolicyError) as info:
        parse(text, file="policies/a.yaml")
    err = info.value
    assert needle in str(err)
    assert "policies/a.yaml" in str(err)
    if line is not None:
        assert err.line == line, str(err)
    if column is not None:
        assert err.column == column, str(err)


def test_expression_errors_point_at_the_offending_column() -> None:
    text = GOOD.replace("params.amount > 5", "params.amount > 5 and params.__class__")
    with pytest.raises(ExpressionError) as info:
        parse(text, file="a.yaml")
    # `when: ` starts at column 11; `params.__class__` is 22 characters further in.
    assert info.value.line == 6
    assert info.value.column == 11 + len("params.amount > 5 and ")


def test_non_utf8_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"name: p\nversion: 1\nrules: []\n# \xff\xfe\n")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load(path)


def test_unknown_pack_name_lists_shipped_packs() -> None:
    with pytest.raises(PolicyNotFound, match="marketplace-agent"):
        load("no-such-pack")


def test_folder_loads_every_pack_but_not_test_files() -> None:
    names = sorted(p.name for p in load(Path(__file__).resolve().parents[1] / "policies"))
    assert names == ["agent-tools", "marketplace-agent", "ranking"]


def test_block_scalar_condition_positions(write_pack) -> None:
    text = textwrap.dedent(
        """\
        name: p
        version: 1
        rules:
          - id: r
            when: >
              params.a > 1 and
              bogus(1)
        """
    )
    with pytest.raises(ExpressionError) as info:
        load(write_pack(text))
    assert "bogus" in str(info.value)
    assert info.value.line is not None and info.value.line >= 6


def test_a_recursive_yaml_anchor_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match="recursive anchor") as err:
        parse("name: b\nversion: 1\nx: &a [*a]\nrules: []\n", file="r.yaml")
    assert (err.value.file, err.value.line) == ("r.yaml", 3)


def test_a_billion_laughs_pack_is_refused_quickly() -> None:
    lines = ["name: b", "version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    with pytest.raises(PolicyError, match="expands to more than"):
        parse("\n".join([*lines, "rules: []"]), file="lol.yaml")


def test_shared_anchors_within_limits_still_load() -> None:
    text = GOOD.replace("match: {kind: pay}", "match: {kind: &k [pay]}") + (
        "  - id: again\n    match: {kind: *k}\n    when: params.amount > 9\n    effect: deny\n"
    )
    assert [r.id for r in parse(text).action_rules("pay")] == ["big", "again"]


def test_yaml_nested_too_deeply_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match="nested too deeply"):
        parse("[" * 5000 + "]" * 5000, file="deep.yaml")


def test_a_malformed_test_file_names_file_line_and_column(tmp_path: Path) -> None:
    from guard.policy._testing import run_pack

    (tmp_path / "p.yaml").write_text(GOOD)
    (tmp_path / "p.test.yaml").write_text("cases:\n  - input: [\n")
    (pack,) = load(tmp_path / "p.yaml")
    with pytest.raises(PolicyError, match="malformed test file") as err:
        run_pack(pack)
    assert err.value.file == str(tmp_path / "p.test.yaml") and err.value.line is not None


def test_when_true_in_yaml_is_the_literal_condition() -> None:
    pack = parse(GOOD.replace("when: params.amount > 5", "when: true"))
    assert pack.rules[0].when is not None and pack.rules[0].when.source == "true"


def test_a_boolean_version_is_refused() -> None:
    with pytest.raises(PolicyError, match="version"):
        parse(GOOD.replace("version: 1", "version: true"))


@pytest.mark.parametrize("path", ["action.params.secret", "context.card", "item.x"])
def test_redact_paths_of_action_rules_are_relative_to_the_action(path: str) -> None:
    text = GOOD.replace("effect: deny", f"effect: redact\n    redact: [{path}]")
    with pytest.raises(PolicyError, match="relative to the action"):
        parse(text)
    assert parse(GOOD.replace("effect: deny", "effect: redact\n    redact: [params.secret]"))


@pytest.mark.parametrize("message", ["hello {params.a", "x {params['k-1']}", "a } b"])
def test_a_stray_brace_in_a_message_is_a_load_error(message: str) -> None:
    text = GOOD + f"    message: {json.dumps(message)}\n"  # JSON strings are YAML strings
    with pytest.raises(PolicyError, match="brace"):
        parse(text)


def test_a_test_file_for_another_pack_is_an_error(tmp_path: Path) -> None:
    from guard.policy._testing import run_pack

    (tmp_path / "p.yaml").write_text(GOOD)
    case = "  - note: n\n    action: {kind: pay}\n    expect: {verdict: allow}\n"
    (tmp_path / "p.test.yaml").write_text("pack: other\ncases:\n" + case)
    (pack,) = load(tmp_path / "p.yaml")
    with pytest.raises(PolicyError, match="for pack 'other'"):
        run_pack(pack)
