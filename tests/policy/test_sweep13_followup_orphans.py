"""Sweep 13 follow-up: `guard policy test DIR` with a test file that no pack claims."""

from __future__ import annotations

from pathlib import Path

import pytest

from guard import PolicyError
from guard.policy import run_tests
from tests.policy.test_sweep13_followup import CASES, PACK, guard_cli

# -- a test file no pack claims ---------------------------------------------------------------


def test_a_test_file_named_after_no_pack_fails_the_run_naming_the_packs(tmp_path: Path) -> None:
    # marketplace.test.yaml beside marketplace-agent.yaml was silently ignored.
    (tmp_path / "marketplace-agent.yaml").write_text(PACK.format(name="marketplace-agent"))
    (tmp_path / "ranking.yaml").write_text(PACK.format(name="ranking"))
    (tmp_path / "ranking.test.yaml").write_text(CASES)
    (tmp_path / "marketplace.test.yaml").write_text(CASES)
    with pytest.raises(PolicyError) as info:
        run_tests(tmp_path)
    err = info.value
    assert err.file == str(tmp_path / "marketplace.test.yaml")
    assert "tests no pack" in str(err)
    assert "marketplace-agent.test.yaml" in str(err)  # the name it should have
    assert "ranking.test.yaml" not in str(err)  # ranking has its test file


def test_the_cli_reports_an_orphan_test_file_and_exits_non_zero(tmp_path: Path) -> None:
    (tmp_path / "marketplace-agent.yaml").write_text(PACK.format(name="marketplace-agent"))
    (tmp_path / "marketplace.test.yaml").write_text(CASES)
    r = guard_cli("policy", "test", str(tmp_path))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "marketplace.test.yaml" in r.stderr and "tests no pack" in r.stderr


def test_every_test_file_with_its_pack_still_runs(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(PACK.format(name="a"))
    (tmp_path / "a.test.yaml").write_text(CASES)
    (tmp_path / "b.yml").write_text(PACK.format(name="b"))
    (tmp_path / "b.test.yml").write_text(CASES)
    reports = run_tests(tmp_path)
    assert [(r.pack, r.passed) for r in reports] == [("a", True), ("b", True)]


def test_a_single_pack_is_tested_whatever_else_its_folder_holds(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(PACK.format(name="a"))
    (tmp_path / "a.test.yaml").write_text(CASES)
    (tmp_path / "draft.test.yaml").write_text(CASES)
    [report] = run_tests(tmp_path / "a.yaml")
    assert report.passed


def test_a_second_test_file_for_one_pack_is_named_not_ignored(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(PACK.format(name="a"))
    (tmp_path / "a.test.yaml").write_text(CASES)
    (tmp_path / "a.test.yml").write_text(CASES)
    with pytest.raises(
        PolicyError, match="'a.test.yml' is never run: pack 'a' reads 'a.test.yaml'"
    ):
        run_tests(tmp_path)


def test_an_orphan_where_every_pack_has_its_tests_says_so(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(PACK.format(name="a"))
    (tmp_path / "a.test.yaml").write_text(CASES)
    (tmp_path / "old.test.yaml").write_text(CASES)
    with pytest.raises(PolicyError, match="'old.test.yaml' tests no pack.*every pack here has"):
        run_tests(tmp_path)
