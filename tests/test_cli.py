from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from guard._validate import MAX_DEPTH

ROOT = Path(__file__).resolve().parents[1]


def guard_cli(
    *args: str, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from guard.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        input=stdin,
        timeout=120,
    )


def test_check_prints_the_decision_as_json() -> None:
    r = guard_cli(
        "check",
        "--policy",
        "marketplace-agent",
        "--action",
        '{"kind": "release_payment", "actor": "u1", "params": {"amount": 700}}',
        "--context",
        '{"role": "agent"}',
    )
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["verdict"] == "escalate" and d["hits"][0]["rule_id"] == "payment-needs-approval"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        pytest.param(
            ["check", "--policy", "marketplace-agent", "--action", "{not json"],
            "--action is not valid JSON",
            id="bad-json",
        ),
        pytest.param(
            ["check", "--policy", "marketplace-agent", "--action", "[1, 2]"],
            "must be a mapping",
            id="non-dict-action",
        ),
        pytest.param(
            ["check", "--policy", "nope", "--action", "{}"], "no policy file", id="no-pack"
        ),
        pytest.param(
            ["check", "--policy", "marketplace-agent", "--action", "@/nonexistent.json"],
            "cannot read --action",
            id="missing-file",
        ),
    ],
)
def test_cli_errors_are_one_line_without_traceback(args: list[str], needle: str) -> None:
    r = guard_cli(*args)
    assert r.returncode != 0
    assert needle in r.stderr
    assert "Traceback" not in r.stderr
    assert needle in r.stderr.strip().splitlines()[-1]


def test_policy_lint_reports_position(tmp_path: Path) -> None:
    bad = tmp_path / "a.yaml"
    bad.write_text("name: a\nversion: 1\nrules:\n  - id: x\n    when: 'true'\n    effect: block\n")
    r = guard_cli("policy", "lint", str(bad))
    assert r.returncode == 1
    assert "unknown effect 'block' in rule 'x'" in r.stderr and "a.yaml:6:13" in r.stderr
    assert guard_cli("policy", "lint", "policies").returncode == 0


def test_policy_test_fails_on_a_wrong_expectation(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "name: a\nversion: 1\nrules:\n  - id: x\n    when: params.n > 1\n"
        "  - id: never\n    when: params.n > 100\n"
    )
    (tmp_path / "a.test.yaml").write_text(
        "cases:\n  - note: n=5 is denied\n    action: {kind: k, params: {n: 5}}\n"
        "    expect: {verdict: allow}\n"
    )
    r = guard_cli("policy", "test", str(tmp_path))
    assert r.returncode == 1
    assert "n=5 is denied" in r.stdout and "never fired: never" in r.stdout


def test_audit_head_verify_show_and_tamper(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    ids = []
    for amount in (100, 700, 20000):
        r = guard_cli(
            "check",
            "--policy",
            "marketplace-agent",
            "--audit",
            url,
            "--action",
            json.dumps({"kind": "release_payment", "actor": "u1", "params": {"amount": amount}}),
        )
        assert r.returncode == 0, r.stderr
        ids.append(json.loads(r.stdout)["id"])
    head = json.loads(guard_cli("audit", "head", "--audit", url).stdout)
    assert head["size"] == 3 and len(head["root"]) == 64
    ok = guard_cli("audit", "verify", "--audit", url)
    assert ok.returncode == 0 and "3 records" in ok.stdout
    shown = json.loads(guard_cli("audit", "show", ids[1], "--audit", url).stdout)
    assert shown["record"]["verdict"] == "escalate" and shown["index"] == 1

    con = sqlite3.connect(tmp_path / "a.db")
    rec = con.execute("SELECT record FROM leaves WHERE idx = 1").fetchone()[0]
    tampered = bytes(rec).replace(b'"escalate"', b'"allow"', 1)
    con.execute("UPDATE leaves SET record = ? WHERE idx = 1", (tampered,))
    con.commit()
    con.close()
    bad = guard_cli("audit", "verify", "--audit", url)
    assert bad.returncode == 1 and "tampered at index 1 (record id" in bad.stderr
    assert bad.stderr.count("index 1") == 1 and bad.stderr.count("tampered") == 1


def build_log(path: Path, size: int) -> str:
    from guard.audit import open_audit

    url = f"sqlite:///{path}"
    with open_audit(url) as log:
        log.append_many(
            [{"id": f"d{n}", "verdict": "allow", "actor": "u1", "n": n} for n in range(size)]
        )
    return url


def sql(path: Path, *statements: str) -> None:
    con = sqlite3.connect(path)
    with con:
        for statement in statements:
            con.execute(statement)
    con.close()


@pytest.mark.parametrize(
    ("statement", "needle"),
    [
        pytest.param(
            "DELETE FROM leaves WHERE idx >= 40",
            "tampered at index 40: records from index 40 on were removed "
            "(the store's tree state records 78)",
            id="deleted-tail",
        ),
        pytest.param(
            "DELETE FROM leaves WHERE idx = 77",
            "tampered at index 77: records from index 77 on were removed",
            id="deleted-last-row",
        ),
        pytest.param(
            "UPDATE leaves SET verdict = 'deny', actor = 'evil' WHERE idx = 7",
            "tampered at index 7 (record id 'd7'): its actor column holds 'evil' but the "
            "record gives 'u1'",
            id="edited-columns",
        ),
    ],
)
def test_audit_verify_catches_truncation_and_edited_columns(
    tmp_path: Path, statement: str, needle: str
) -> None:
    url = build_log(tmp_path / "a.db", 78)
    assert guard_cli("audit", "verify", "--audit", url).returncode == 0
    sql(tmp_path / "a.db", statement)
    r = guard_cli("audit", "verify", "--audit", url)
    assert r.returncode == 1 and r.stdout == ""
    assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [["head"], ["verify"], ["show", "d1"]])
def test_read_only_audit_commands_refuse_a_missing_sqlite_file(
    tmp_path: Path, command: list[str]
) -> None:
    path = tmp_path / "nonexist.db"
    r = guard_cli("audit", *command, "--audit", f"sqlite:///{path}")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        f"error: no audit log at {str(path)!r}: the file does not exist"
    ]
    assert list(tmp_path.iterdir()) == []


def test_audit_head_prints_a_public_key_that_checks_it_without_our_code(tmp_path: Path) -> None:
    import rfc8785
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    url = build_log(tmp_path / "a.db", 5)
    head = json.loads(guard_cli("audit", "head", "--audit", url).stdout)
    assert head["size"] == 5 and len(head["public_key"]) == 64
    signed = rfc8785.dumps({k: head[k] for k in ("size", "root", "timestamp")})
    assert (
        signed
        == json.dumps(
            {"root": head["root"], "size": 5, "timestamp": head["timestamp"]}, separators=(",", ":")
        ).encode()
    )  # what the help says: sorted keys, no spaces
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(head["public_key"]))
    key.verify(bytes.fromhex(head["signature"]), signed)  # raises if it does not check
    r = guard_cli("audit", "head", "--help")
    assert "RFC 8785" in r.stdout and "public_key" in r.stdout


def test_audit_verify_against_a_published_head(tmp_path: Path) -> None:
    from guard.audit import CompactRange, leaf_hash

    db = tmp_path / "a.db"
    url = build_log(db, 10)
    head = tmp_path / "head.json"
    head.write_text(guard_cli("audit", "head", "--audit", url).stdout)
    ok = guard_cli("audit", "verify", "--audit", url, "--against", str(head))
    assert ok.returncode == 0 and "extends the tree head of size 10" in ok.stdout
    # Deleting the tail and rewriting the tree state to match leaves nothing to see inside
    con = sqlite3.connect(db)
    rows = con.execute("SELECT record FROM leaves WHERE idx < 8 ORDER BY idx").fetchall()
    con.close()
    frontier = CompactRange()
    for (data,) in rows:
        frontier.append(leaf_hash(bytes(data)))
    sql(
        db,
        "DELETE FROM leaves WHERE idx >= 8",
        f"UPDATE tree_state SET size = 8, frontier = x'{frontier.to_bytes().hex()}'",
    )
    assert guard_cli("audit", "verify", "--audit", url).returncode == 0
    bad = guard_cli("audit", "verify", "--audit", url, "--against", str(head))
    assert bad.returncode == 1
    assert "tampered at index 8: records from index 8 on were removed" in bad.stderr
    assert "(the tree head given records 10)" in bad.stderr
    assert (
        "truncat" not in bad.stderr and "--against" in guard_cli("audit", "verify", "--help").stdout
    )


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        pytest.param("{not json", "--against is not valid JSON", id="not-json"),
        pytest.param('{"size": 1}', "is not a tree head: root: Field required", id="no-root"),
        pytest.param(
            '{"size": 1, "root": "00", "timestamp": "t", "signature": "00", "public_key": "11"}',
            "the signature does not match its public_key",
            id="bad-signature",
        ),
    ],
)
def test_audit_verify_against_a_bad_head_file(tmp_path: Path, content: str, needle: str) -> None:
    url = build_log(tmp_path / "a.db", 2)
    head = tmp_path / "head.json"
    head.write_text(content)
    r = guard_cli("audit", "verify", "--audit", url, "--against", str(head))
    assert r.returncode != 0 and needle in r.stderr and "Traceback" not in r.stderr


def test_policy_lint_reports_an_unknown_pii_entity(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\nversion: 1\npii:\n  entities: [EMAIL_ADDRESS, EMAIL]\n"
        "  fields: [params.message]\nrules:\n  - id: x\n    when: params.n > 1\n"
    )
    r = guard_cli("policy", "lint", str(bad))
    assert r.returncode == 1 and "ok" not in r.stdout
    assert "unknown PII entity 'EMAIL'; expected one of" in r.stderr
    assert f"({bad}:4:29)" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    check = guard_cli("check", "--policy", str(bad), "--action", '{"kind": "k"}')
    assert check.returncode != 0 and "unknown PII entity 'EMAIL'" in check.stderr
    bad.write_text(bad.read_text().replace(", EMAIL]", ", PERSON]"))
    assert guard_cli("policy", "lint", str(bad)).returncode == 0


def test_demo_runs_and_prints_summary(tmp_path: Path) -> None:
    r = guard_cli("demo", "--audit", f"sqlite:///{tmp_path / 'demo.db'}")
    assert r.returncode == 0, r.stderr
    assert "marketplace-agent" in r.stdout and "audit log" in r.stdout


# -- user text prints as given: never parsed as rich markup or emoji codes ----------------------


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("[/bold]x", id="closing-tag"),
        pytest.param("[bold]hi", id="opening-tag"),
        pytest.param(":smile: [red]x[/red]", id="emoji"),
    ],
)
def test_check_error_prints_markup_in_the_input_as_given(name: str) -> None:
    r = guard_cli("check", "--policy", name, "--action", '{"kind": "x"}')
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert (
        r.stderr.strip()
        .splitlines()[0]
        .startswith(f"error: no policy file, folder or shipped pack named {name!r}")
    )


def test_policy_lint_prints_a_pattern_with_its_brackets(tmp_path: Path) -> None:
    bad = tmp_path / "a.yaml"
    bad.write_text("name: Bad Name\nversion: 1\nrules:\n  - id: x\n    when: 'true'\n")
    r = guard_cli("policy", "lint", str(bad))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert "pattern '^[a-z0-9][a-z0-9_.-]{0,63}$' (got 'Bad Name')" in line


def test_policy_test_prints_a_failing_note_with_markup(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "name: a\nversion: 1\nrules:\n  - id: x\n    when: params.n > 1\n"
    )
    (tmp_path / "a.test.yaml").write_text(
        'cases:\n  - note: "[/red] oops [bold]:smile:"\n    action: {kind: k, params: {n: 5}}\n'
        "    expect: {verdict: allow}\n"
    )
    r = guard_cli("policy", "test", str(tmp_path))
    assert r.returncode == 1 and "Traceback" not in r.stderr and r.stderr == ""
    assert "FAIL a: [/red] oops [bold]:smile:: verdict deny, expected allow" in r.stdout


# -- JSON options: refused in one line, never a RecursionError ----------------------------------

DEEP_ACTION = '{"kind": "k", "params": {"a": ' + "[" * 5000 + "]" * 5000 + "}}"


@pytest.mark.parametrize("how", ["file", "inline", "stdin", "context"])
def test_deeply_nested_json_is_one_line(tmp_path: Path, how: str) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP_ACTION)
    args = ["check", "--policy", "agent-tools"]
    stdin = None
    if how == "file":
        args += ["--action", f"@{deep}"]
    elif how == "inline":
        args += ["--action", DEEP_ACTION]
    elif how == "stdin":
        args, stdin = [*args, "--action", "-"], DEEP_ACTION
    else:
        args += ["--action", '{"kind": "k"}', "--context", f"@{deep}"]
    r = guard_cli(*args, stdin=stdin)
    what = "--context" if how == "context" else "--action"
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        f"error: {what} is nested deeper than {MAX_DEPTH} levels"
    ]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        pytest.param(b'{"kind": "k", "params": {"x": NaN}}', "is not valid JSON", id="nan"),
        pytest.param(b'{"kind": "k", "params": {"x": -Infinity}}', "is not valid JSON", id="inf"),
        pytest.param(b"", "is not valid JSON", id="empty"),
        pytest.param(b'{"kind": "caf\xe9"}', "is not UTF-8 (bad byte at offset 13)", id="latin1"),
        pytest.param(b"\xff\xfe\x00\x01", "is not UTF-8 (bad byte at offset 0)", id="binary"),
    ],
)
def test_bad_action_files_are_one_line(tmp_path: Path, content: bytes, needle: str) -> None:
    path = tmp_path / "action.json"
    path.write_bytes(content)
    for args in (["--action", f"@{path}"], ["--action", '{"kind": "k"}', "--context", f"@{path}"]):
        r = guard_cli("check", "--policy", "agent-tools", *args)
        assert r.returncode == 2 and "Traceback" not in r.stderr
        (line,) = r.stderr.strip().splitlines()
        assert line.startswith(f"error: {args[-2]} ") and needle in line


def test_action_file_that_is_a_directory_or_too_big(tmp_path: Path) -> None:
    r = guard_cli("check", "--policy", "agent-tools", "--action", f"@{tmp_path}")
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        f"error: cannot read --action from {str(tmp_path)!r}: Is a directory"
    ]
    r = guard_cli("check", "--policy", "agent-tools", "--action", "@/dev/zero")
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        "error: --action from '/dev/zero' is larger than 16777216 bytes"
    ]
    bom = tmp_path / "bom.json"
    bom.write_bytes(b'\xef\xbb\xbf{"kind": "k"}')  # as some editors save UTF-8
    assert guard_cli("check", "--policy", "agent-tools", "--action", f"@{bom}").returncode == 0


def test_audit_verify_and_show_report_a_record_rewritten_as_text(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    ids = []
    for amount in (100, 700):
        action = {"kind": "release_payment", "actor": "u1", "params": {"amount": amount}}
        r = guard_cli(
            "check", "--policy", "marketplace-agent", "--audit", url, "--action", json.dumps(action)
        )
        assert r.returncode == 0, r.stderr
        ids.append(json.loads(r.stdout)["id"])
    # sqlite's replace() returns TEXT: the row no longer holds bytes
    sql(tmp_path / "a.db", "UPDATE leaves SET record = replace(record, 'escalate', 'allow')")
    expected = (
        f"error: audit log tampered at index 0 (record id {ids[0]!r}): "
        "its record column holds text, not bytes"
    )
    for args in (["verify"], ["show", ids[0]]):
        r = guard_cli("audit", *args, "--audit", url)
        assert r.returncode == 1 and r.stdout == "" and "Traceback" not in r.stderr
        assert r.stderr.strip().splitlines() == [expected]
    r = guard_cli("audit", "show", ids[1], "--audit", url)
    assert r.returncode == 1 and "tampered at index 1" in r.stderr and "Traceback" not in r.stderr


def test_an_integer_beyond_64_bits_is_refused_not_rounded() -> None:
    action = '{"kind": "k", "params": {"x": 123456789012345678901234567890}}'
    r = guard_cli("check", "--policy", "agent-tools", "--action", action)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        "error: action holds an integer outside the exact JSON range (-2**53, 2**53)"
    ]


# -- the sweep: bad input a new user might give is one line and a non-zero exit -----------------


@pytest.mark.parametrize(
    ("args", "line"),
    [
        pytest.param(
            ["demo", "--rounds", "abc"],
            "error: Invalid value for '--rounds': ",
            id="not-an-integer",
        ),
        pytest.param(
            ["demo", "--rounds", "0"], "error: --rounds must be at least 1, got 0", id="0"
        ),
        pytest.param(
            ["demo", "--rounds", "-3"], "error: --rounds must be at least 1, got -3", id="-3"
        ),
        pytest.param(["bogus"], "error: No such command 'bogus'.", id="no-such-command"),
        pytest.param(
            ["check", "-p", "agent-tools"], "error: Missing option '--action'.", id="missing"
        ),
        pytest.param(
            ["audit", "show", "a", "b"], "error: Got unexpected extra argument", id="extra"
        ),
        pytest.param(
            ["check", "-p", "agent-tools", "--action", "-", "--context", "-"],
            "error: --action and --context cannot both be read from stdin (-)",
            id="stdin-twice",
        ),
        pytest.param(
            ["audit", "head", "--audit", "postgresql://nohost:abc/x"],
            "error: invalid PostgreSQL audit URL: its port is not a number",
            id="postgres-port",
        ),
        pytest.param(
            ["audit", "verify", "--audit", "mysql://x"],
            "error: unsupported audit URL 'mysql://x'; expected one of",
            id="mysql",
        ),
        pytest.param(
            ["audit", "verify", "--audit", "memory://"],
            "error: --audit 'memory://' is a log kept in the memory of the process",
            id="memory",
        ),
        pytest.param(
            ["audit", "head", "--audit", ""],
            "error: --audit '' is a log kept in the memory of the process",
            id="empty-url",
        ),
        pytest.param(
            ["audit", "verify", "--audit", "sqlite://"],
            "error: unsupported audit URL 'sqlite://'; expected one of",
            id="sqlite-no-path",
        ),
    ],
)
def test_usage_errors_are_one_line(args: list[str], line: str) -> None:
    r = guard_cli(*args, stdin="")
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    (only,) = r.stderr.strip().splitlines()
    assert only.startswith(line)


def test_no_arguments_still_print_the_help() -> None:
    r = guard_cli()
    assert r.returncode == 2 and "Usage:" in r.stdout + r.stderr and "check" in r.stdout + r.stderr
    assert guard_cli("audit", "--help").returncode == 0


def test_audit_show_of_a_record_edited_to_nest_too_deeply(tmp_path: Path) -> None:
    url = build_log(tmp_path / "a.db", 2)
    deep = b'{"id":"d1","a":' + b"[" * 1000 + b"]" * 1000 + b"}"
    con = sqlite3.connect(tmp_path / "a.db")
    with con:
        con.execute("UPDATE leaves SET record = ? WHERE idx = 1", (deep,))
    r = guard_cli("audit", "show", "d1", "--audit", url)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        "error: audit log tampered at index 1 (record id 'd1'): its bytes do not match its "
        "stored leaf hash"
    ]
    with con:  # its leaf hash rewritten too: deeper than any record the guard writes
        leaf = hashlib.sha256(b"\x00" + deep).digest()
        con.execute("UPDATE leaves SET leaf_hash = ? WHERE idx = 1", (leaf,))
    con.close()
    r = guard_cli("audit", "show", "d1", "--audit", url)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        "error: audit log tampered at index 1 (record id 'd1'): its record is nested deeper "
        "than records are"
    ]
    r = guard_cli("audit", "verify", "--audit", url)
    assert r.returncode == 1 and "tampered at index 1" in r.stderr


def test_arguments_that_are_not_utf8_are_one_line(tmp_path: Path) -> None:
    url = build_log(tmp_path / "a.db", 1)
    r = guard_cli("audit", "show", "\udcff", "--audit", url)  # the byte 0xff on the command line
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == ["error: no audit record with id '\\udcff'"]
    r = guard_cli("check", "--policy", "agent-tools", "--action", '{"kind": "\udcff"}')
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        "error: --action is not UTF-8 text"
    ]


def test_audit_show_lists_the_records_linked_to_a_decision(tmp_path: Path) -> None:
    from guard.audit import open_audit

    url = f"sqlite:///{tmp_path / 'a.db'}"
    log = open_audit(url)
    log.append({"schema_version": "guard.decision/v1", "id": "d1", "verdict": "allow"})
    for label in ("correct", "false_positive"):
        log.append(
            {
                "schema_version": "guard.review/v1",
                "id": f"r-{label}",
                "decision_id": "d1",
                "label": label,
            }  # fmt: skip
        )
    log.close()
    shown = json.loads(guard_cli("audit", "show", "d1", "--audit", url).stdout)
    assert shown["record"]["id"] == "d1"
    assert [x["record"]["label"] for x in shown["linked"]] == ["correct", "false_positive"]
