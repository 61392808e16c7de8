"""Run a pack's `*.test.yaml` cases and report which rules no case ever fired."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from guard._exceptions import GuardError, PolicyError
from guard._models import Decision, Verdict
from guard.policy._loader import (
    MAX_PACK_BYTES,
    CompiledPack,
    check_yaml_versions,
    decode,
    is_test_file,
    load,
    read_yaml,
    validation_error,
    where,
    yaml_positions,
)

Positions = Mapping[tuple[Any, ...], Any]


class Expect(BaseModel):
    """What a case expects: the verdict, and optionally exactly which rules hit."""

    model_config = ConfigDict(extra="forbid")

    verdict: Verdict
    rules: list[str] | None = None
    kept: list[StrictStr | StrictInt] | None = None  # ids; `true` is not the id 1
    error: StrictBool | None = None  # `error: 1` or "yes" is a typo, not true


class Case(BaseModel):
    """One test case: an action (or a ranking) with its context and expectation."""

    model_config = ConfigDict(extra="forbid")

    note: str
    action: dict[str, Any] | None = None
    items: list[dict[str, Any]] | None = None
    context: dict[str, Any] | None = None
    repeat: StrictInt = Field(default=1, ge=1, le=1000)  # a YAML `true` is not 1
    expect: Expect


class TestFile(BaseModel):
    """A pack's test file."""

    model_config = ConfigDict(extra="forbid")

    pack: str | None = None
    cases: list[Case] = Field(min_length=1)


@dataclass
class CaseResult:
    """The outcome of one case."""

    note: str
    passed: bool
    detail: str = ""


@dataclass
class PackReport:
    """All cases of one pack and the rules they never fired."""

    pack: str
    file: str | None
    results: list[CaseResult] = field(default_factory=list)
    fired: set[str] = field(default_factory=set)
    rules: list[str] = field(default_factory=list)

    @property
    def unfired(self) -> list[str]:
        return [r for r in self.rules if r not in self.fired]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results) and self.file is not None


def run(spec: str | os.PathLike[str]) -> list[PackReport]:
    """Test every pack `spec` names (a file, a folder or a shipped name)."""
    packs = load(spec)
    if Path(spec).is_dir():
        _check_orphans(Path(spec), packs)
    return [run_pack(pack) for pack in packs]


def _check_orphans(folder: Path, packs: list[CompiledPack]) -> None:
    """Refuse a test file named after no pack of the folder (`marketplace.test.yaml` beside
    `marketplace-agent.yaml`): its cases would never run, and its pack would only be
    reported as having no test file."""
    claimed = {p.test_file: p for p in packs}
    tests = sorted(p for p in folder.glob("*.test.y*ml") if is_test_file(p) and p.is_file())
    orphans = [p for p in tests if p not in claimed]
    if not orphans:
        return
    orphan = orphans[0]
    stem = orphan.name.rsplit(".test.", 1)[0]
    twin = next((f for f in claimed if f is not None and f.name.startswith(f"{stem}.test.")), None)
    if twin is not None:  # `a.test.yaml` and `a.test.yml`: the pack reads only the first
        raise PolicyError(
            f"test file {orphan.name!r} is never run: pack {claimed[twin].name!r} reads "
            f"{twin.name!r}; merge the two",
            file=str(orphan),
        )
    # The names the packs without a test file would read, the closest to this one first.
    wanted = {
        Path(p.path).stem: Path(p.path).suffix for p in packs if p.test_file is None and p.path
    }
    close = difflib.get_close_matches(stem, wanted, n=len(wanted), cutoff=0) if wanted else []
    hint = (
        f"; name it after the pack it tests: {', '.join(f'{c}.test{wanted[c]}' for c in close)}"
        if close
        else "; every pack here has its own test file"
    )
    raise PolicyError(
        f"test file {orphan.name!r} tests no pack: there is no {stem}.yaml beside it{hint}",
        file=str(orphan),
    )


def run_pack(pack: CompiledPack) -> PackReport:
    """Run the test file that sits beside `pack`."""
    report = PackReport(pack=pack.name, file=None, rules=[r.id for r in pack.rules])
    path = pack.test_file
    if path is None:
        return report
    report.file = str(path)
    tests, positions = _read(path)
    if tests.pack is not None and tests.pack != pack.name:
        line, col = where(positions, ("pack",)) or (None, None)
        raise PolicyError(
            f"test file is for pack {tests.pack!r}, but the pack beside it is {pack.name!r}",
            file=str(path),
            line=line,
            column=col,
        )
    _check_rule_ids(tests, pack, positions, str(path))
    for i, case in enumerate(tests.cases):
        line, col = where(positions, ("cases", i)) or (None, None)
        report.results.append(_run_case(pack, case, report.fired, f"{path}:{line}:{col}"))
    return report


def _read(path: Path) -> tuple[TestFile, Positions]:
    file = str(path)
    try:
        too_big = path.stat().st_size > MAX_PACK_BYTES
        node, data = (None, None) if too_big else read_yaml(path.read_text(encoding="utf-8"), file)
    except UnicodeDecodeError as exc:
        try:
            decode(exc.object, file)  # raises, naming the bad byte's line and column
        except PolicyError as bad:
            raise PolicyError(
                f"malformed test file: {bad.reason}", file=file, line=bad.line, column=bad.column
            ) from None
        raise  # pragma: no cover - bytes that failed to decode fail again
    except OSError as exc:
        raise PolicyError(f"cannot read test file: {exc.strerror}", file=file) from None
    except PolicyError as exc:
        raise PolicyError(
            f"malformed test file: {exc.reason}", file=file, line=exc.line, column=exc.column
        ) from None
    if too_big:
        raise PolicyError(f"test file is larger than {MAX_PACK_BYTES} bytes", file=file)
    positions = yaml_positions(node)
    if not isinstance(data, dict):
        raise PolicyError(
            "a test file must be a YAML mapping with a `cases` list", file=file, line=1, column=1
        )
    # Read as packs are: `country: NO` is no boolean false, `code: 0755` no 493.
    check_yaml_versions(positions, file, "test files")
    try:
        tests = TestFile.model_validate(data)
    except ValidationError as exc:
        # A misspelt key (`expct`) also leaves the key it meant missing: name the typo.
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        found = validation_error(errors, data, positions, file, TestFile)
        name = _case_name(data, tuple(errors[0]["loc"]))
        raise PolicyError(
            f"invalid test file{name}: {found.reason}",
            file=file,
            line=found.line,
            column=found.column,
        ) from None
    for i, case in enumerate(tests.cases):
        if (case.action is None) == (case.items is None):
            line, col = where(positions, ("cases", i)) or (None, None)
            raise PolicyError(
                f"case {case.note!r} needs exactly one of `action` (a check) or `items` "
                "(a ranking)",
                file=file,
                line=line,
                column=col,
            )
        if case.expect.kept is not None and case.items is None:
            line, col = where(positions, ("cases", i, "expect", "kept")) or (None, None)
            raise PolicyError(
                f"case {case.note!r} expects `kept` items, but it checks an action; "
                "`kept` is for a ranking (`items`)",
                file=file,
                line=line,
                column=col,
            )
    return tests, positions


def _case_name(data: dict[str, Any], loc: tuple[Any, ...]) -> str:
    cases = data.get("cases")
    if len(loc) < 2 or loc[0] != "cases" or not isinstance(cases, list):
        return ""
    case = cases[loc[1]] if isinstance(loc[1], int) and loc[1] < len(cases) else None
    if isinstance(case, dict) and isinstance(case.get("note"), str):
        return f", case {case['note']!r}"
    return f", case #{loc[1] + 1}" if isinstance(loc[1], int) else ""


def _check_rule_ids(tests: TestFile, pack: CompiledPack, positions: Positions, file: str) -> None:
    """Refuse a case that expects a rule the pack does not have: it could never pass."""
    ids = [r.id for r in pack.rules]
    for i, case in enumerate(tests.cases):
        for j, rule_id in enumerate(case.expect.rules or []):
            if rule_id not in ids:
                line, col = where(positions, ("cases", i, "expect", "rules", j)) or (None, None)
                raise PolicyError(
                    f"case {case.note!r} expects rule {rule_id!r}, which pack {pack.name!r} "
                    f"does not have; its rules are {', '.join(ids) or 'none'}",
                    file=file,
                    line=line,
                    column=col,
                )


def _run_case(pack: CompiledPack, case: Case, fired: set[str], place: str) -> CaseResult:
    """Run one case; a failure's detail ends with the case's `place` (file:line:column)."""
    from guard._engine import Guard

    guard = Guard([pack])
    try:
        decision = _decide(guard, case)
    except GuardError as exc:
        return CaseResult(case.note, False, f"raised {type(exc).__name__}: {exc} ({place})")
    hit_ids = sorted({h.rule_id for h in decision.hits})
    fired.update(h.rule_id for h in decision.hits if h.error is None)
    problems = _compare(case.expect, decision, hit_ids)
    return CaseResult(
        case.note, not problems, f"{'; '.join(problems)} ({place})" if problems else ""
    )


def _decide(guard: Any, case: Case) -> Decision:
    decision: Decision | None = None
    for _ in range(case.repeat):
        if case.items is not None:
            decision = guard.rank(case.items, case.context)
        else:
            decision = guard.check(case.action, case.context)  # counts, as a real check does
    if decision is None:  # repeat >= 1 makes this unreachable; keep mypy and -O honest
        raise PolicyError(f"case {case.note!r} made no decision")
    return decision


def _compare(expect: Expect, decision: Decision, hit_ids: list[str]) -> list[str]:
    problems = []
    if decision.verdict is not expect.verdict:
        problems.append(f"verdict {decision.verdict.value}, expected {expect.verdict.value}")
    if expect.rules is not None and sorted(set(expect.rules)) != hit_ids:
        problems.append(f"rules {hit_ids}, expected {sorted(set(expect.rules))}")
    if expect.kept is not None:  # ids as the decision knows them: by position when absent
        outcomes = sorted(decision.items or [], key=lambda o: o.rank)
        kept = [o.id for o in outcomes if o.verdict in (Verdict.ALLOW, Verdict.REDACT)]
        if kept != expect.kept:
            problems.append(f"kept {kept}, expected {expect.kept}")
    errored = any(h.error for h in decision.hits)
    if expect.error is not None and errored != expect.error:
        problems.append(f"rule error {errored}, expected {expect.error}")
    elif expect.error is None and errored:
        errors = [f"{h.rule_id}: {h.error}" for h in decision.hits if h.error]
        problems.append(f"unexpected rule errors: {errors}")
    return problems
