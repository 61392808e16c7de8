"""Load errors name a misspelt key first, list the keys allowed there, and stay short."""

from __future__ import annotations

from pathlib import Path

import pytest

from guard._exceptions import PolicyError
from guard.policy import parse
from guard.policy._loader import MAX_PACK_BYTES
from guard.policy._testing import run


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            "name: p\nversion: 1\nrules:\n  - idd: big\n    when: params.a > 5\n",
            "unknown key 'idd' in rule #1; expected one of id, description, match,",
            id="rule-id-typo",
        ),
        pytest.param(
            "name: p\nversion: 1\ndefaults: {verdikt: deny}\nrules: []\n",
            "unknown key 'verdikt'; expected one of verdict, on_error",
            id="defaults",
        ),
        pytest.param(
            "name: p\nversion: 1\nrulez: []\n",
            "unknown key 'rulez'; expected one of name, version, description, defaults, pii,",
            id="top-level",
        ),
    ],
)
def test_a_misspelt_key_is_named_with_the_keys_allowed(source: str, expected: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse(source, file="p.yaml")
    assert str(info.value).startswith(expected)


def test_a_long_offending_value_is_shortened() -> None:
    rules = "\n".join(f"  k{i}: {i}" for i in range(300))
    with pytest.raises(PolicyError) as info:
        parse(f"name: p\nversion: 1\nrules:\n{rules}\n", file="p.yaml")
    assert "Input should be a valid list" in str(info.value)
    assert len(str(info.value)) < 200


def test_an_oversized_test_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("name: p\nversion: 1\nrules: []\n", encoding="utf-8")
    big = tmp_path / "p.test.yaml"
    big.write_text("cases: []\n" + "#" * (MAX_PACK_BYTES + 1), encoding="utf-8")
    with pytest.raises(PolicyError, match="test file is larger than"):
        run(str(tmp_path / "p.yaml"))


def test_a_huge_placeholder_index_loads_and_reads_nothing() -> None:
    from guard import Guard

    index = "9" * 5000  # int() refuses strings this long
    rule = f'  - id: r\n    when: "true"\n    message: "x {{params.a[{index}]}}"\n'
    pack = parse(f"name: p\nversion: 1\nrules:\n{rule}")
    decision = Guard([pack]).check({"kind": "k", "params": {"a": [1]}})
    assert decision.hits[0].message == "x <missing>"
