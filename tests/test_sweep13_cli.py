"""`guard serve` refuses a port it cannot listen on and a bad GUARD_LOG_LEVEL in one line;
`guard audit --help` keeps each command's summary whole; `--against` that is not a JSON
object is named as such."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml


def guard_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from guard.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=120,
    )


def _one_line_error(r: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in r.stderr, r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, r.stderr
    return errors[0]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_on_a_port_in_use_says_so_in_one_line(tmp_path: Path, workers: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = guard_cli(
            "serve", "--port", str(port), "--workers", workers, "--audit", "sqlite:///a.db",
            cwd=tmp_path,
        )  # fmt: skip
    assert r.returncode == 2
    line = _one_line_error(r)
    assert line == f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert "INFO:" not in r.stderr  # refused before uvicorn started


@pytest.mark.parametrize("level", ["loud", ""])
def test_serve_refuses_an_unknown_log_level_in_one_line(tmp_path: Path, level: str) -> None:
    r = guard_cli("serve", "--port", "1", cwd=tmp_path, env={"GUARD_LOG_LEVEL": level})
    assert r.returncode == 2
    line = _one_line_error(r)
    if not level:  # every GUARD_ setting set but empty is refused alike, since sweep 15b
        assert line == (
            "error: GUARD_LOG_LEVEL is set but empty; unset it for the default, or give a value"
        )
        return
    assert line.startswith(
        "error: log_level (GUARD_LOG_LEVEL) must be one of critical, error, warning"
    )
    assert line.endswith(f"got {level!r}")


def test_audit_help_keeps_each_summary_on_one_line(tmp_path: Path) -> None:
    r = guard_cli("audit", "--help", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    (show,) = [line for line in r.stdout.splitlines() if " show " in line]
    assert "(deferred explanations, reviews, resolutions)" in show


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        pytest.param("[1, 2]", "a JSON array", id="list"),
        pytest.param("null", "JSON null", id="null"),
        pytest.param('"head"', "a JSON string", id="string"),
    ],
)
def test_verify_against_a_head_that_is_not_an_object(
    tmp_path: Path, content: str, kind: str
) -> None:
    from guard.audit import open_audit

    open_audit(f"sqlite:///{tmp_path / 'a.db'}").close()
    (tmp_path / "head.json").write_text(content)
    r = guard_cli(
        "audit", "verify", "--audit", "sqlite:///a.db", "--against", "head.json", cwd=tmp_path
    )
    assert r.returncode == 1
    line = _one_line_error(r)
    assert line == (
        "error: --against 'head.json' is not a tree head: it must be a JSON object, as "
        f"`guard audit head` prints, got {kind}"
    )
    assert "TreeHead" not in r.stderr


@pytest.mark.parametrize(
    ("option", "value", "key"),
    [
        pytest.param(
            "--action",
            '{"kind": "release_payment", "params": {"amount": 25000, "amount": 1}}',
            "amount",
            id="action-nested",
        ),
        pytest.param(
            "--action", '{"kind": "release_payment", "kind": "search"}', "kind", id="action-top"
        ),
        pytest.param("--context", '{"role": "agent", "role": "finance"}', "role", id="context"),
    ],
)
def test_check_refuses_a_key_given_twice(tmp_path: Path, option: str, value: str, key: str) -> None:
    # json.loads keeps the last: the guard would pass amount 1 while a first-wins reader of
    # the same text runs a payment of 25000.
    options = {"--action": '{"kind": "release_payment", "params": {"amount": 1}}', option: value}
    args = [part for pair in options.items() for part in pair]
    r = guard_cli("check", "--policy", "marketplace-agent", *args, cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    line = _one_line_error(r)
    assert line.startswith(f"error: {option} has the key {key!r} twice in one object;")


def test_check_keeps_equal_keys_in_different_objects(tmp_path: Path) -> None:
    action = '{"kind": "k", "params": {"a": 1, "b": {"a": 2}, "c": [{"a": 3}, {"a": 4}]}}'
    r = guard_cli("check", "--policy", "marketplace-agent", "--action", action, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    params = {"a": 1, "b": {"a": 2}, "c": [{"a": 3}, {"a": 4}]}
    assert json.loads(r.stdout)["final_action"]["params"] == params


def test_check_prints_its_json_to_an_output_that_is_not_utf8(tmp_path: Path) -> None:
    action = '{"kind": "réservation", "params": {"note": "über 日本"}}'
    r = guard_cli(
        "check", "--policy", "ranking", "--action", action,
        cwd=tmp_path, env={"PYTHONIOENCODING": "ascii"},
    )  # fmt: skip
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    decision = json.loads(r.stdout)
    assert decision["final_action"] == json.loads(action)


@pytest.mark.parametrize("how", ["option", "variable"])
def test_serve_demo_with_keys_is_refused_before_it_starts(tmp_path: Path, how: str) -> None:
    # The demo's client sends no key: it used to start, then print 'demo traffic failed: 401'.
    from service._auth import new_key

    _, entry = new_key("ops", ["check"], None)
    keys = tmp_path / "keys.yaml"
    keys.write_text(yaml.safe_dump([entry.as_yaml_dict()]), encoding="utf-8")
    args = ["serve", "--demo", "--port", "1"]
    env = {"GUARD_KEYS": str(keys)} if how == "variable" else {}
    if how == "option":
        args += ["--keys", str(keys)]
    r = guard_cli(*args, cwd=tmp_path, env=env)
    assert r.returncode == 2 and r.stdout == ""
    line = _one_line_error(r)
    assert line.startswith("error: --demo sends its example traffic with no key")
    assert f"({str(keys)!r})" in line


@pytest.mark.parametrize(
    ("pack", "needle"),
    [
        pytest.param(None, "holds several packs", id="no-pack"),
        pytest.param("nope", "--pack 'nope' is not in --policy", id="unknown-pack"),
    ],
)
def test_check_refused_for_its_pack_choice_makes_no_audit_log(
    tmp_path: Path, pack: str | None, needle: str
) -> None:
    folder = Path(__file__).resolve().parents[1] / "policies"
    args = ["check", "--policy", str(folder), "--action", '{"kind": "k"}']
    args += ["--audit", "sqlite:///new.db", *(["--pack", pack] if pack else [])]
    r = guard_cli(*args, cwd=tmp_path)
    assert r.returncode == 2 and needle in _one_line_error(r)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no new.db, no new.db.key
