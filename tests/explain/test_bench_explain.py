"""The explain benchmark runs end to end and compares like with like."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("lightgbm")
pytest.importorskip("shap")
pytest.importorskip("torch")
pytest.importorskip("captum")

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_explain.py"


def _load_bench() -> ModuleType:
    # benchmarks/ is a folder of scripts, not a package: load the file by path.
    spec = importlib.util.spec_from_file_location("bench_explain", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_benchmark_smoke_run() -> None:
    bench = _load_bench()
    result = bench.run(n=30, kernel_n=1, seed=3)
    ranker, mlp = result["ranker"], result["mlp"]
    # TreeSHAP against the query's candidates and KernelSHAP with the same background
    # estimate the same Shapley values.
    assert ranker["agreement_corr"] > 0.95
    for res in (ranker, mlp):
        passed, total = res["checks_ok"].split("/")
        assert passed == total
    assert set(result["summary"]) == {"ranker", "mlp"}
    assert "vs Kernel" in bench.report(result)
