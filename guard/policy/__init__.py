"""The policy language: packs in YAML, conditions compiled once into safe closures."""

from __future__ import annotations

from guard.policy._expr import (
    DEFAULT_FUNCTIONS,
    SCOPE_NAMES,
    CompiledExpr,
    FunctionRegistry,
    PiiView,
    compile_expr,
)
from guard.policy._loader import (
    CompiledPack,
    CompiledRule,
    load,
    load_file,
    parse,
    resolve,
    shipped_dir,
)
from guard.policy._pack import PolicyPackSpec, RuleSpec
from guard.policy._rate import MemoryRateStore, RateStore
from guard.policy._testing import PackReport
from guard.policy._testing import run as run_tests

__all__ = [
    "DEFAULT_FUNCTIONS",
    "SCOPE_NAMES",
    "CompiledExpr",
    "CompiledPack",
    "CompiledRule",
    "FunctionRegistry",
    "MemoryRateStore",
    "PackReport",
    "PiiView",
    "PolicyPackSpec",
    "RateStore",
    "RuleSpec",
    "compile_expr",
    "load",
    "load_file",
    "parse",
    "resolve",
    "run_tests",
    "shipped_dir",
]
