"""The rules benchmark's three engines (guard, cedarpy, regopy) agree on every action."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("cedarpy", reason="the rules benchmark compares against cedarpy (dev extra)")
pytest.importorskip("regopy", reason="the rules benchmark compares against regopy (dev extra)")

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_rules.py"


def _load_bench() -> ModuleType:
    # benchmarks/ is a folder of scripts, not a package: load the file by path.
    spec = importlib.util.spec_from_file_location("bench_rules", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _load_bench()


@pytest.mark.parametrize("seed", [pytest.param(1, id="seed-1"), pytest.param(2, id="seed-2")])
def test_engines_agree_on_every_action(bench: ModuleType, seed: int) -> None:
    result = bench.run(200, seed, warmup=10)
    assert result["examples"] == []
    assert result["verdicts_agree"] == 200
    assert result["rules_agree"] == 200
    assert result["agree"] is True
    # Agreement means little if every action had the same answer.
    assert 0 < result["denied"] < 200
