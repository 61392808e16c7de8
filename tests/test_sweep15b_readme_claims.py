"""README.md's sidecar and limits paragraphs, checked against what the code does: the
control-character ranges it gives for ids, the options that have a GUARD_* variable, and
the body a reload takes."""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from guard import Guard, InvalidAction

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
PROSE = " ".join(README.split())
PACK = """\
name: readme-ids
version: 1
rules:
  - id: fine
    when: true
    effect: allow
"""


def _ranges() -> list[tuple[int, int]]:
    """The code point ranges the README says an id may not hold."""
    found = re.search(r"control character \((U\+[0-9A-F]{4}-U\+[0-9A-F]{4}(?:, U\+[^)]*)?)", PROSE)
    assert found, "the README no longer gives the ranges"
    pairs = re.findall(r"U\+([0-9A-F]{4})-U\+([0-9A-F]{4})", found.group(1))
    return [(int(a, 16), int(b, 16)) for a, b in pairs]


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guard]:
    pack = tmp_path_factory.mktemp("ids") / "readme-ids.yaml"
    pack.write_text(PACK, encoding="utf-8")
    with Guard.from_policy(pack) as g:
        yield g


def test_the_control_character_ranges_are_those_refused(guard: Guard) -> None:
    ranges = _ranges()
    assert ranges == [(0x00, 0x1F), (0x7F, 0x9F)]
    refused = {c for a, b in ranges for c in range(a, b + 1)}
    # each end of each range, and the printable neighbours just outside them
    for code in sorted({c + d for a, b in ranges for c in (a, b) for d in (-1, 0, 1)} - {-1}):
        for key in ("kind", "actor", "tenant"):
            action: dict[str, Any] = {"kind": "send", key: f"a{chr(code)}b"}
            if code in refused:
                with pytest.raises(InvalidAction, match=rf"U\+{code:04X} at position 1"):
                    guard.check(action)
            else:
                assert guard.check(action).verdict == "allow", (key, hex(code))


def test_a_ranking_s_actor_and_tenant_are_ids_too(guard: Guard) -> None:
    with pytest.raises(InvalidAction, match=r"U\+0085"):
        guard.rank([{"id": "a"}], actor="u\x851")
    with pytest.raises(InvalidAction, match=r"U\+000A"):
        guard.rank([{"id": "a"}], tenant="acme\n")


def test_every_serve_option_but_demo_has_a_guard_variable() -> None:
    from guard.cli import serve
    from service._settings import ENV_PREFIX, Settings

    said = re.search(r"Every option but `--demo` is also a `GUARD_\*` variable \(([^;]*)", PROSE)
    assert said, "the README no longer says which options have a variable"
    fields = set(inspect.signature(Settings).parameters)
    options = set(inspect.signature(serve).parameters)
    assert "demo" in options and "demo" not in fields
    assert options - {"demo"} <= fields  # each option is read from GUARD_<NAME> as well
    for name in re.findall(r"`GUARD_([A-Z_]+)`", said.group(1)):
        assert name.lower() in fields, f"the README names {ENV_PREFIX}{name}"


def test_the_reload_takes_no_body(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    with warnings.catch_warnings():  # starlette asks for httpx2; the TestClient still works
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from service import ServiceState, Settings, create_app

    (row,) = [line for line in README.splitlines() if "`POST /v1/policies/reload`" in line]
    assert "takes no body (none, or `{}`; anything else is `422 validation_error`" in row
    (tmp_path / "readme-ids.yaml").write_text(PACK, encoding="utf-8")
    settings = Settings(policy=str(tmp_path / "readme-ids.yaml"), audit="memory://")
    state = ServiceState.build(settings)
    try:
        with TestClient(create_app(state=state)) as http:
            assert http.post("/v1/policies/reload").status_code == 200
            assert http.post("/v1/policies/reload", json={}).status_code == 200
            for body in ({"dry_run": True}, {"policy": "readme-ids"}, []):
                refused = http.post("/v1/policies/reload", json=body)
                assert refused.status_code == 422, body
                assert refused.json()["error"]["code"] == "validation_error"
    finally:
        state.close()


def test_a_reload_that_finds_a_bad_pack_says_where_and_keeps_the_old_one(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from service import ServiceState, Settings, create_app

    assert "`422 policy_invalid` / `expression_invalid` (a reload that finds a bad pack" in PROSE
    pack = tmp_path / "readme-ids.yaml"
    pack.write_text(PACK, encoding="utf-8")
    state = ServiceState.build(Settings(policy=str(pack), audit="memory://"))
    try:
        with TestClient(create_app(state=state)) as http:
            for tail, code, line in (
                ("    efect: deny\n", "policy_invalid", 8),
                ("    when: params.__x\n", "expression_invalid", 8),
            ):
                pack.write_text(PACK + "  - id: bad\n" + tail, encoding="utf-8")
                answer = http.post("/v1/policies/reload")
                assert answer.status_code == 422
                error = answer.json()["error"]
                assert error["code"] == code
                assert error["details"]["file"].endswith("readme-ids.yaml")
                assert error["details"]["line"] == line
                assert isinstance(error["details"]["column"], int)
                # the old pack still serves
                (item,) = http.get("/v1/policies").json()["items"]
                assert item["rules"] == 1
    finally:
        state.close()
