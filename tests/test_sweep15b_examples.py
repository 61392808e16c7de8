"""What the examples print agrees with what happened in the run they describe."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("gymnasium")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ROW = re.compile(
    r"^(?P<mode>\S+)\s+steps\s+(?P<steps>\d+), cliff falls\s+\d+, "
    r"substitutions\s+(?P<subs>\d+), reached goal: (?P<goal>yes|no)"
)
NO_DETOUR = "its search still prefers the denied move: no detour found"


@pytest.fixture(scope="module")
def cliff() -> Iterator[ModuleType]:
    name = "examples_sweep15b_cliffwalking"
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / "planner_cliffwalking.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(name, None)


@pytest.mark.parametrize(
    "args",
    [
        ["--seed", "0", "--simulations", "200"],  # the README's run: stuck at the start
        ["--seed", "0", "--simulations", "1"],  # a one-simulation search wanders instead
    ],
)
def test_cliffwalking_says_no_detour_only_when_every_move_was_denied(
    cliff: ModuleType, args: list[str]
) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        cliff.main(args)
    lines = out.getvalue().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("post-shield "))
    row = ROW.match(lines[at])
    assert row is not None, lines[at]
    steps, subs = int(row["steps"]), int(row["subs"])
    said = NO_DETOUR in lines[at + 1]
    # "still prefers the denied move" holds when the walker never moved as it chose
    assert said == (row["goal"] == "no" and subs == steps), (lines[at], lines[at + 1])
    if row["goal"] == "no" and not said:
        assert f"the goal was not reached in {steps} steps" in lines[at + 1]
