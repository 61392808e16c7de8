"""Load policy packs from YAML: validate with positions, then compile every condition once."""

from __future__ import annotations

import ast
import difflib
import functools
import hashlib
import os
import re
import reprlib
import tokenize
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard, get_args

import rfc8785
import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from guard._exceptions import EvaluationError, ExpressionError, PolicyError, PolicyNotFound
from guard._models import Verdict
from guard._validate import MAX_EXACT_INT
from guard.detect._entities import BUILTIN_ENTITIES
from guard.detect._paths import parse_field
from guard.detect._settings import PiiSettings
from guard.policy._expr import CompiledExpr, compile_expr, source_tokens
from guard.policy._functions import (
    RATE_FUNCTIONS,
    _domain,
    _ends_in_number,
    _field_shape,
    _under,
    ipv6_host,
    window_problem,
)
from guard.policy._inline import Plan, build_plan
from guard.policy._pack import CapSpec, PackPiiSettings, PolicyPackSpec, RuleSpec
from guard.policy._template import TEMPLATE, Placeholder, split_template

MAX_PACK_BYTES = 2_000_000
MAX_YAML_VALUES = 100_000  # values a pack or test file may expand to, aliases included
VERDICTS = "deny, escalate, redact, allow"
EXPLANATION_NAMES = frozenset({"attribution", "rationale"})
#: A message placeholder: a name, then `.key` or `[key]` steps (`[0]`, `[-1]`, `[a-b]`).
PLACEHOLDER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+|\[[A-Za-z0-9_-]+\])*\Z")

Position = tuple[int, int]
_KEY = "<key>"  # marks the position of a mapping key rather than its value


@dataclass(frozen=True)
class CompiledRule:
    """A rule ready to run: its condition compiled, its error policy resolved."""

    id: str
    scope: str
    effect: Verdict
    on_error: Verdict
    severity: str
    message: str
    description: str
    kinds: frozenset[str] | None
    when: CompiledExpr | None
    cap: CapSpec | None
    redact: tuple[str, ...]
    line: int | None
    #: The message split once at load (see `split_template`); None without placeholders.
    message_parts: tuple[str | Placeholder, ...] | None = None

    @property
    def uses_pii(self) -> bool:
        return self.when is not None and "pii" in self.when.names_used


class RuleSet(tuple[CompiledRule, ...]):
    """Rules in declaration order, with their conditions joined into one plan function
    (see `_inline.build_plan`); None when no rule has a condition."""

    plan: Plan | None

    def __new__(cls, rules: Iterable[CompiledRule]) -> RuleSet:
        self = super().__new__(cls, rules)
        self.plan = build_plan(self)
        return self


@dataclass(frozen=True)
class CompiledPack:
    """A validated pack with compiled rules, indexed by action kind for a cheap pre-filter."""

    name: str
    version: int | str
    digest: str
    source: str
    path: str | None
    defaults_verdict: Verdict
    on_error: Verdict
    pii: PiiSettings | None
    rules: tuple[CompiledRule, ...]
    spec: PolicyPackSpec
    by_kind: dict[str, RuleSet] = field(default_factory=dict)
    any_kind: RuleSet = field(default_factory=lambda: RuleSet(()))
    item_rules: RuleSet = field(default_factory=lambda: RuleSet(()))
    list_rules: tuple[CompiledRule, ...] = ()
    _uses_rate: bool = False

    def action_rules(self, kind: str) -> tuple[CompiledRule, ...]:
        """The action-scope rules that apply to `kind`, in declaration order."""
        return self.by_kind.get(kind, self.any_kind)

    @property
    def uses_pii(self) -> bool:
        return any(r.uses_pii for r in self.rules)

    @property
    def uses_rate(self) -> bool:
        return self._uses_rate

    @property
    def uses_explanations(self) -> bool:
        return any(r.when is not None and r.when.names_used & EXPLANATION_NAMES for r in self.rules)

    @property
    def test_file(self) -> Path | None:
        if self.path is None:
            return None
        p = Path(self.path)
        stem = p.name.removesuffix(p.suffix)
        for suffix in dict.fromkeys((p.suffix, ".yaml", ".yml")):  # the pack's own first
            candidate = p.with_name(f"{stem}.test{suffix}")
            if candidate.is_file():
                return candidate
        return None


def shipped_dir() -> Path:
    """The folder of policy packs that ship with the product."""
    env = os.environ.get("GUARD_POLICY_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "policies"


def resolve(spec: str | os.PathLike[str]) -> list[Path]:
    """Turn a file, a folder or a shipped pack's name into the pack files it means."""
    if not os.fspath(spec).strip():  # Path("") is the current folder: never meant
        raise PolicyNotFound("no policy given: the file, folder or shipped pack name is empty")
    path = Path(spec)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.y*ml") if not is_test_file(p))
        if not files:
            raise PolicyNotFound(f"folder {str(path)!r} holds no policy packs (*.yaml)")
        return files
    if path.is_file():
        if is_test_file(path):
            stem = path.name.rsplit(".test.", 1)[0]
            packs = [path.with_name(stem + s) for s in (".yaml", ".yml")]
            pack = next((p for p in packs if p.is_file()), packs[0])
            # The message names the file; a place appended would read as the folder's name.
            raise PolicyError(
                f"{str(path)!r} is a test file; give its pack ({str(pack)!r}) "
                f"or its folder ({str(path.parent)!r})"
            )
        return [path]
    if path.exists():  # a device, a pipe or a socket: nothing a pack is read from
        raise PolicyNotFound(f"{str(path)!r} is neither a policy file nor a folder")
    for suffix in (".yaml", ".yml"):
        shipped = shipped_dir() / f"{spec}{suffix}"
        if shipped.is_file():
            return [shipped]
    names = ", ".join(sorted(p.stem for p in shipped_dir().glob("*.yaml") if not is_test_file(p)))
    raise PolicyNotFound(
        f"no policy file, folder or shipped pack named {str(spec)!r}; shipped: {names}"
    )


def load(spec: str | os.PathLike[str]) -> list[CompiledPack]:
    """Load every pack `spec` names; names must be unique across the set."""
    packs = [load_file(p) for p in resolve(spec)]
    seen: dict[str, str | None] = {}
    for pack in packs:
        if pack.name in seen:
            file = pack.path or "<policy>"
            node = read_yaml(pack.source, file)[0]
            line, col = where(yaml_positions(node), ("name",)) or (None, None)
            raise PolicyError(
                f"pack name {pack.name!r} is used twice ({seen[pack.name]} and {pack.path}); "
                "each pack in a folder needs its own name",
                file=file,
                line=line,
                column=col,
            )
        seen[pack.name] = pack.path
    return packs


def load_file(path: str | os.PathLike[str]) -> CompiledPack:
    """Read and compile one pack file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise PolicyNotFound(f"cannot read policy file: {exc.strerror}", file=str(p)) from exc
    return parse(raw, file=str(p))


def parse(source: str | bytes, *, file: str = "<policy>") -> CompiledPack:
    """Validate and compile a pack from its YAML text."""
    text = decode(source, file)
    node, data = read_yaml(text, file)
    positions = yaml_positions(node)
    if not isinstance(data, dict):
        raise PolicyError("a policy pack must be a YAML mapping", file=file, line=1, column=1)
    check_yaml_versions(positions, file)
    _check_json(data, (), positions, file)
    _check_integers(data, (), positions, file)
    _check_rule_ids(data, positions, file)
    try:
        spec = PolicyPackSpec.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc.errors(), data, positions, file, PolicyPackSpec) from None
    return _compile(spec, text, file, positions)


def decode(source: str | bytes, file: str) -> str:
    """A pack's or test file's bytes as text; not UTF-8 is an error at the bad byte."""
    if isinstance(source, str):
        return source
    if len(source) > MAX_PACK_BYTES:
        raise PolicyError(f"policy file is larger than {MAX_PACK_BYTES} bytes", file=file)
    try:
        return source.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_column(source[: exc.start].decode("utf-8", "replace"))
        raise PolicyError(
            f"the file is not UTF-8 (bad byte {source[exc.start]:#04x} at offset {exc.start})",
            file=file,
            line=line,
            column=col,
        ) from None


#: A path with a bracket step (`params.attachments[*].text`), written unquoted.
_BRACKETED_PATH = re.compile(r"(?<![\w\"'])[A-Za-z_][\w.]*(?:\[[^\]\[\s,\"']*\](?:\.\w+)*)+")
_QUOTED = re.compile(r""""(?:\\.|[^"\\])*"|'(?:''|[^'])*'""")


def _bracket_hint(text: str, line: int | None) -> str:
    """For YAML that broke on a bracketed path in a `[ ]` list: how to quote it. In a flow
    list YAML reads `[` as a nested list and `*` as an alias, so the path must be quoted."""
    if line is None:
        return ""
    lines = text.split("\n")
    code = _QUOTED.sub('""', lines[line] if 0 <= line < len(lines) else "")
    found = _BRACKETED_PATH.search(code)
    if found is None or "[" not in code[: found.start()]:
        return ""
    return (
        f"; inside a [ ] list YAML reads brackets and * as its own syntax, so quote a "
        f'path with brackets: "{found.group()}"'
    )


def _line_column(before: str) -> Position:
    """The line and column just after the text `before`."""
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def read_yaml(text: str, file: str) -> tuple[yaml.Node | None, Any]:
    """Parse YAML safely: its node tree (for positions) and its data.

    Aliases are allowed, but not one that contains itself, and not so many that the
    document expands past MAX_YAML_VALUES values ("billion laughs").
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None:
            _check_expansion(node, file)
        data = yaml.safe_load(text)
    except RecursionError:
        raise PolicyError("YAML nested too deeply", file=file) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        hint = _bracket_hint(text, mark.line if mark else None)
        raise PolicyError(
            f"malformed YAML: {exc.problem}{hint}", file=file, line=line, column=col
        ) from None
    except yaml.reader.ReaderError as exc:  # a character YAML refuses: NUL, a control
        line, col = _line_column(text[: exc.position])
        raise PolicyError(
            f"malformed YAML: the character U+{exc.character:04X} is not allowed in YAML "
            "(write it as an escape in a double-quoted string)",
            file=file,
            line=line,
            column=col,
        ) from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"malformed YAML: {exc}", file=file) from None
    except ValueError:  # an integer of more digits than Python converts (4300)
        long = [n for n in yaml_positions(node).values() if n.tag.endswith(":int")]
        mark = max(long, key=lambda n: len(n.value)).start_mark if long else None
        raise PolicyError(
            "a number in the YAML has too many digits to read",
            file=file,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    if node is not None:
        _check_duplicate_keys(node, file)
    return node, data


def _check_expansion(root: yaml.Node, file: str) -> None:
    """Count the values `root` expands to, each aliased node once per use (memoised)."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_:
            mark = node.start_mark
            raise PolicyError(
                "a YAML alias refers to a value that contains it (a recursive anchor)",
                file=file,
                line=mark.line + 1,
                column=mark.column + 1,
            )
        open_.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            children = []
        for child in children:
            total += size(child)
            if total > MAX_YAML_VALUES:
                raise PolicyError(
                    f"the YAML expands to more than {MAX_YAML_VALUES:,} values "
                    "(through aliases); a pack is far smaller",
                    file=file,
                )
        open_.discard(key)
        sizes[key] = total
        return total

    size(root)


def _check_duplicate_keys(node: yaml.Node, file: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key, value in node.value:
            if key.value in seen:
                raise PolicyError(
                    f"duplicate key {key.value!r}",
                    file=file,
                    line=key.start_mark.line + 1,
                    column=key.start_mark.column + 1,
                )
            seen.add(key.value)
            _check_duplicate_keys(value, file)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_duplicate_keys(item, file)


def yaml_positions(
    node: yaml.Node | None, path: tuple[Any, ...] = ()
) -> dict[tuple[Any, ...], Any]:
    """Map every path in the document to its YAML node, so errors can name line and column."""
    if node is None:
        return {}
    out: dict[tuple[Any, ...], Any] = {path: node}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out[(*path, key.value, _KEY)] = key
            out.update(yaml_positions(value, (*path, key.value)))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.update(yaml_positions(item, (*path, i)))
    return out


def where(positions: Mapping[tuple[Any, ...], Any], loc: tuple[Any, ...]) -> Position | None:
    """The line and column of `loc`, else of its nearest ancestor in the document."""
    while True:
        node = positions.get(loc)
        if node is not None:
            return node.start_mark.line + 1, node.start_mark.column + 1
        if not loc:
            return None
        loc = loc[:-1]


#: How YAML 1.2's core schema reads a plain scalar that is not text (YAML 1.1, which
#: PyYAML reads, differs: `on` is true there, `017` is 15, `1_000` is 1000, `1e3` is text).
_YAML12: tuple[tuple[re.Pattern[str], Any], ...] = (
    (re.compile(r"(?:~|null|Null|NULL|)\Z"), lambda t: None),
    (re.compile(r"(?:true|True|TRUE)\Z"), lambda t: True),
    (re.compile(r"(?:false|False|FALSE)\Z"), lambda t: False),
    (re.compile(r"[-+]?[0-9]+\Z"), int),
    (re.compile(r"0o[0-7]+\Z"), lambda t: int(t[2:], 8)),
    (re.compile(r"0x[0-9a-fA-F]+\Z"), lambda t: int(t[2:], 16)),
    (re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z"), float),
    (re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z"), lambda t: float(t.replace(".", "", 1))),
    (re.compile(r"\.(?:nan|NaN|NAN)\Z"), lambda t: float(t[1:])),
)
_RESOLVER = yaml.resolver.Resolver()
_MERGE = "tag:yaml.org,2002:merge"


def _yaml12(text: str) -> Any:
    """The value YAML 1.2 (core schema) gives the plain scalar `text`."""
    return next((read(text) for pattern, read in _YAML12 if pattern.match(text)), text)


def _as_yaml(value: Any) -> str:
    """A value as a pack author would name it: `the boolean true`, `15`, `the float 1.1`."""
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, bool) or value is None:
        return {True: "the boolean true", False: "the boolean false", None: "null"}[value]
    return str(value) if type(value) is int else f"the {type(value).__name__} {value}"


def _plain(node: Any) -> TypeGuard[yaml.ScalarNode]:
    """Whether `node` is an unquoted scalar: the only kind YAML reads as other than text."""
    return isinstance(node, yaml.ScalarNode) and node.style is None


def check_yaml_versions(
    positions: Mapping[tuple[Any, ...], Any], file: str, document: str = "packs"
) -> None:
    """Refuse an unquoted value that YAML 1.1 (how packs are read) and YAML 1.2 read
    differently: `when: on` would be a rule that always fires, `effect: no` a boolean,
    `version: 017` the number 15, `kind: 1e3` text here but 1000.0 to other tools."""
    constructor = yaml.constructor.SafeConstructor()
    for path, node in positions.items():
        if node.tag == _MERGE:
            mark = node.start_mark
            raise PolicyError(
                "a merge key (<<) is YAML 1.1 only (YAML 1.2 reads it as the key '<<'), so "
                "other tools would read this pack differently; write the keys out (an alias "
                "such as `when: *cond` for a whole value is fine)",
                file=file,
                line=mark.line + 1,
                column=mark.column + 1,
            )
        if not _plain(node):
            continue  # quoted or block text is text in every YAML
        text = node.value
        implicit = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
        if node.tag != implicit:
            continue  # an explicit tag (`!!str on`) says what is meant
        old, new = constructor.construct_object(node), _yaml12(text)
        if (type(old), repr(old)) == (type(new), repr(new)):
            continue
        name = ".".join(str(p) for p in path if p != _KEY) or "pack"
        what = "key" if path[-1:] == (_KEY,) else "value"
        if isinstance(old, bool):
            fix = "write true or false for a boolean, or quote it"
        elif isinstance(old, int | float) or isinstance(new, int | float):
            fix = "write the number in plain decimal, or quote it for text"
        else:
            fix = "quote it"
        mark = node.start_mark
        raise PolicyError(
            f"the unquoted {what} {text!r} at {name} is {_as_yaml(old)} to YAML 1.1, as "
            f'{document} are read, but {_as_yaml(new)} to YAML 1.2; {fix} ("{text}")',
            file=file,
            line=mark.line + 1,
            column=mark.column + 1,
        )


def _check_json(value: Any, path: tuple[Any, ...], positions: Mapping[Any, Any], file: str) -> None:
    """Refuse a value JSON has no type for (`!!set`, `!!binary`, `!!omap`, a timestamp):
    a pack is JSON data written in YAML, and its digest is of that JSON (a set's order,
    and so the digest, would change from one process to the next). Keys are left to the
    schema, which names no key but text."""
    if isinstance(value, dict):
        for key, child in value.items():
            _check_json(child, (*path, key), positions, file)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            _check_json(child, (*path, i), positions, file)
    elif not isinstance(value, str | int | float | bool | None):
        node = positions.get(path)
        tag = node.tag.rpartition(":")[2] if isinstance(node, yaml.Node) else ""
        line, col = where(positions, path) or (None, None)
        raise PolicyError(
            f"the value at {'.'.join(str(p) for p in path) or 'pack'} is a YAML "
            f"{tag or type(value).__name__} ({_short_repr(value)}), which JSON has no type "
            "for; a pack holds only text, numbers, true/false, null, lists and mappings: "
            "quote it where text is meant",
            file=file,
            line=line,
            column=col,
        )


def _check_integers(
    value: Any, path: tuple[Any, ...], positions: Mapping[Any, Any], file: str
) -> None:
    """Refuse an integer past the exact JSON range, where pydantic would take it and the
    pack's digest (RFC 8785) would then fail."""
    if isinstance(value, dict):
        for key, child in value.items():
            _check_integers(child, (*path, key), positions, file)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            _check_integers(child, (*path, i), positions, file)
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_EXACT_INT:
        line, col = where(positions, path) or (None, None)
        name = ".".join(str(p) for p in path) or "pack"
        raise PolicyError(
            f"invalid {name}: the integer {_short_repr(value)} is outside the exact JSON range "
            "(-2**53, 2**53), which packs and decision records are kept in",
            file=file,
            line=line,
            column=col,
        )


def _check_rule_ids(data: dict[str, Any], positions: Mapping[Any, Any], file: str) -> None:
    rules = data.get("rules")
    if not isinstance(rules, list):
        return
    seen: set[Any] = set()
    for i, rule in enumerate(rules):
        rid = rule.get("id") if isinstance(rule, dict) else None
        if rid is not None and rid in seen:
            line, col = where(positions, ("rules", i, "id")) or (None, None)
            raise PolicyError(f"duplicate rule id {rid!r}", file=file, line=line, column=col)
        seen.add(rid)


def validation_error(
    errors: Sequence[ErrorDetails],
    data: dict[str, Any],
    positions: Mapping[Any, Any],
    file: str,
    model: type[BaseModel] | None = None,
) -> PolicyError:
    """The first of pydantic's `errors` as a PolicyError at its line and column, naming
    the key or the offending value (and the allowed ones, for a verdict or a key of `model`).

    A misspelt key (`idd`) also leaves the key it meant missing: the typo is named first.
    """
    errors = sorted(errors, key=lambda e: e["type"] != "extra_forbidden")
    err = errors[0]
    loc = tuple(err["loc"])
    key_loc = (*loc, _KEY) if err["type"] == "extra_forbidden" else loc
    line, col = where(positions, key_loc) or (None, None)
    rule = _rule_name(data, loc)
    name = ".".join(str(x) for x in loc) or "pack"
    if err["type"] == "enum" and loc and loc[-1] in ("effect", "on_error", "verdict"):
        msg = f"unknown {loc[-1]} {err['input']!r}{rule}; expected one of {VERDICTS}"
    elif err["type"] == "extra_forbidden":
        allowed = _allowed_keys(model, loc) if model is not None else None
        msg = f"unknown key {loc[-1]!r}{rule}"
        if allowed:
            msg += f"; expected one of {', '.join(allowed)}"
    elif err["type"] == "missing":
        msg = f"missing required key {name!r}{rule}"
    else:
        text = str(err["msg"]).removeprefix("Value error, ")
        msg = f"invalid {name}{rule}: {text} (got {_short_repr(err.get('input'))})"
        node = positions.get(loc)
        # Quoting cannot help a number out of range, nor a value a rule's shape refuses
        # whatever its type (a list rule's `when: true`: it takes no `when` at all).
        wants_number = str(err["type"]).startswith(_NUMBER_ERRORS)
        refused = err["type"] == "value_error" and loc[-1:] == ("when",)
        if (
            _plain(node)
            and not isinstance(err.get("input"), str | None)
            and not (wants_number or refused)
        ):
            msg += (
                f"; YAML reads the unquoted {node.value!r} as {_as_yaml(err.get('input'))}: "
                f'quote it ("{node.value}") where text is meant'
            )
    more = len(errors) - 1
    if more:
        msg += f" [and {more} more error{'s' if more > 1 else ''}]"
    return PolicyError(msg, file=file, line=line, column=col)


#: pydantic error types of a field that takes a number (`cap.max: -1`, `repeat: 1.5`).
_NUMBER_ERRORS = ("int_", "float_", "greater_than", "less_than", "multiple_of", "finite_")


def _short_repr(value: Any, limit: int = 80) -> str:
    """`repr(value)`, cut to `limit` characters: a whole mapping must not fill the line."""
    text = reprlib.repr(value) if isinstance(value, dict | list | tuple | set) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """The keys the mapping holding `loc[-1]` accepts, following `loc` through `model`."""
    current: type[BaseModel] | None = model
    for step in loc[:-1]:
        if isinstance(step, int) or current is None:
            continue
        field = current.model_fields.get(str(step))
        current = _model_in(field.annotation) if field is not None else None
        if current is None:
            return None
    if current is None:
        return None
    return [f.alias or name for name, f in current.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds (`RuleSpec`, `list[RuleSpec]`, `X | None`)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _rule_name(data: dict[str, Any], loc: tuple[Any, ...]) -> str:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = data.get("rules") or []
        rule = rules[loc[1]] if loc[1] < len(rules) else None
        if isinstance(rule, dict) and isinstance(rule.get("id"), str):
            return f" in rule {rule['id']!r}"
        return f" in rule #{loc[1] + 1}"
    return ""


def _compile(
    spec: PolicyPackSpec, text: str, file: str, positions: Mapping[Any, Any]
) -> CompiledPack:
    if spec.pii is not None:
        _check_pii_fields(spec.pii, file, positions)
        _check_pii_entities(spec.pii, file, positions)
    _check_recognizer_patterns(spec.pii, file, positions)
    rules = tuple(
        _compile_rule(rule, spec, file, positions, i) for i, rule in enumerate(spec.rules)
    )
    digest = hashlib.sha256(rfc8785.dumps(spec.model_dump(mode="json"))).hexdigest()
    action = [r for r in rules if r.scope == "action"]
    kinds = sorted({k for r in action if r.kinds for k in r.kinds})
    by_kind = {k: RuleSet(r for r in action if r.kinds is None or k in r.kinds) for k in kinds}
    return CompiledPack(
        name=spec.name,
        version=spec.version,
        digest=f"sha256:{digest}",
        source=text,
        path=None if file.startswith("<") else file,
        defaults_verdict=spec.defaults.verdict,
        on_error=spec.defaults.on_error,
        pii=spec.pii,
        rules=rules,
        spec=spec,
        by_kind=by_kind,
        any_kind=RuleSet(r for r in action if r.kinds is None),
        item_rules=RuleSet(r for r in rules if r.scope == "item"),
        list_rules=tuple(r for r in rules if r.scope == "list"),
        _uses_rate=any(
            r.when is not None and r.when.functions_used & RATE_FUNCTIONS for r in rules
        ),
    )


def _counter_prefix(pack: str, rule_id: str) -> str:
    """The name rate() and total() count a rule's events under (then ":" and the key): the
    pack's name, so that a rule of one pack never counts another's events, and the rule id
    with ":" written "/" (neither a pack name nor a rule id holds "/"), so that rule "a"
    counting "b:c" and rule "a:b" counting "c" are two counters."""
    return f"{pack}/{rule_id.replace(':', '/')}"


#: Starts of a PII field's path that no action's data has: the scan reads the action as
#: sent (`params`, `actor`, `tenant`, any other top-level key it carries) and, in a
#: ranking, `item`; never the context. Redacting `kind` would change what the action is.
NOT_PII_FIELD_ROOTS = ("context", "action", "kind")


def _check_pii_fields(pii: PiiSettings, file: str, positions: Mapping[Any, Any]) -> None:
    """Refuse a `pii.fields` path that would never be scanned (`context.note`,
    `action.params.message`, `parms.message`), so its PII would go out, and into the audit
    log, as written. Other starts are top-level keys an action may carry (`body`)."""
    for path in pii.fields:
        root = parse_field(path)[0]
        if root == "tenant":
            line, col = _item_where(positions, ("pii", "fields"), path)
            raise PolicyError(
                f"pii.fields entry {path!r}: the tenant cannot be a PII field; it says whose "
                "decision it is (a tenant's API keys read its decisions by it), so it is "
                "stored as sent: use an opaque tenant id",
                file=file,
                line=line,
                column=col,
            )
        if root == "params" or root not in NOT_PII_FIELD_ROOTS and not _near_params(root):
            continue
        rest = path.removeprefix("action").lstrip(".")
        hint = (
            f" (write {rest!r})"
            if root == "action" and rest
            else " (did you mean 'params'?)"
            if _near_params(root)
            else ""
        )
        line, col = _item_where(positions, ("pii", "fields"), path)
        raise PolicyError(
            f"pii.fields entry {path!r} starts with {root!r}, which the PII scan never "
            f"reads{hint}; a field is a path into the action as sent (params.message, actor, "
            "or another top-level key it carries) or a ranked item (item.title)",
            file=file,
            line=line,
            column=col,
        )


def _near_params(root: object) -> bool:
    """`parms`, `param`, `Params`: a misspelt `params`, whose field no action carries."""
    return (
        isinstance(root, str)
        and root != "params"
        and difflib.SequenceMatcher(None, root.lower(), "params").ratio() >= 0.8
    )


def _check_pii_entities(pii: PackPiiSettings, file: str, positions: Mapping[Any, Any]) -> None:
    """Refuse an entity type the built-in engine does not know (`EMAIL_ADRESS`): the pack
    would load, and only building its Guard would fail, naming no place. The pack's own
    recognizers and its `custom_entities` add to the known types."""
    for entity in pii.custom_entities:
        if entity not in pii.entities:
            line, col = _item_where(positions, ("pii", "custom_entities"), entity)
            raise PolicyError(
                f"pii.custom_entities names {entity!r}, which is not in pii.entities; "
                "add it to pii.entities",
                file=file,
                line=line,
                column=col,
            )
    known = BUILTIN_ENTITIES | {r.supported_entity for r in pii.recognizers}
    for entity in pii.entities:
        if entity in known or entity in pii.custom_entities:
            continue
        close = difflib.get_close_matches(entity, known, n=1, cutoff=0.6)
        guess = f" (did you mean {close[0]!r}?)" if close else ""
        line, col = _item_where(positions, ("pii", "entities"), entity)
        raise PolicyError(
            f"unknown PII entity {entity!r}; expected one of {', '.join(sorted(known))}{guess}; "
            "a pii.recognizers entry finds other types, and pii.custom_entities lists those "
            "a custom pii_detector finds",
            file=file,
            line=line,
            column=col,
        )


def _item_where(
    positions: Mapping[Any, Any], loc: tuple[Any, ...], value: str
) -> tuple[int | None, int | None]:
    """Where the list at `loc` holds `value` (the models drop duplicates, so the index in
    the model may not be the one in the file), else where the list is."""
    i = 0
    while (node := positions.get((*loc, i))) is not None:
        if getattr(node, "value", None) == value:
            return where(positions, (*loc, i)) or (None, None)
        i += 1
    return where(positions, loc) or (None, None)


def _check_recognizer_patterns(
    pii: PiiSettings | None, file: str, positions: Mapping[Any, Any]
) -> None:
    """Refuse a `pii.recognizers` regex that Presidio cannot compile: the pack would load,
    and the Guard would then fail to build, naming no place in the file. Presidio reads
    the patterns with the `regex` module; without the PII extra it is not installed, and
    every `pii.*` call fails closed anyway."""
    if pii is None or not pii.recognizers:
        return
    try:
        import regex
    except ImportError:  # pragma: no cover - the PII extra is installed in the test env
        return
    flags = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE  # as Presidio compiles them
    for i, recognizer in enumerate(pii.recognizers):
        for j, pattern in enumerate(recognizer.patterns):
            try:
                regex.compile(pattern["regex"], flags=flags)
            except regex.error as exc:
                loc = ("pii", "recognizers", i, "patterns", j, "regex")
                line, col = where(positions, loc) or (None, None)
                raise PolicyError(
                    f"pii.recognizers.{i}.patterns.{j}.regex of recognizer "
                    f"{recognizer.name!r} is not a valid regular expression: {exc}",
                    file=file,
                    line=line,
                    column=col,
                    text=pattern["regex"],
                ) from None


def _compile_rule(
    rule: RuleSpec,
    spec: PolicyPackSpec,
    file: str,
    positions: Mapping[Any, Any],
    index: int,
) -> CompiledRule:
    when = None
    if rule.when is not None:
        node = positions.get(("rules", index, "when"))
        try:  # positions within the condition's text, mapped into the file below
            when = compile_expr(
                rule.when,
                file=file,
                line=1,
                column=1,
                rule_id=_counter_prefix(spec.name, rule.id),
                condition=True,
            )
        except ExpressionError as exc:
            line, col = _file_position(node, rule.when, exc.line, exc.column)
            raise ExpressionError(
                f"{exc.reason} in rule {rule.id!r}{_comment_hint(node)}",
                file=exc.file,
                line=line,
                column=col,
                text=exc.text,
            ) from None
    _check_template(rule, file, positions, index)
    _check_scope(rule, file, positions, index)
    if when is not None:
        _check_comments(rule, positions.get(("rules", index, "when")), file)
        _check_names(rule, when, file, positions, index)
        _check_string_fields(rule, when, file, positions, index)
        _check_calls(rule, when, spec.pii, file, positions, index)
        _check_domain_literals(rule, when, file, positions, index)
        _check_case_literals(rule, when, file, positions, index)
    id_node = positions.get(("rules", index, "id"))
    return CompiledRule(
        id=rule.id,
        scope=rule.scope,
        effect=rule.effect,
        on_error=rule.on_error or spec.defaults.on_error,
        severity=rule.severity,
        message=rule.message,
        description=rule.description,
        kinds=frozenset(rule.match.kind) if rule.match else None,
        when=when,
        cap=rule.cap,
        redact=tuple(rule.redact),
        line=id_node.start_mark.line + 1 if id_node is not None else None,
        message_parts=split_template(rule.message) if TEMPLATE.search(rule.message) else None,
    )


def _check_comments(rule: RuleSpec, node: Any, file: str) -> None:
    """Refuse a `#` comment in a condition whose YAML lines were joined (a folded `>`
    block, a quoted or plain value): the comment runs to the end of the condition, so
    `params.a > 1  # big` then `and params.b == 2` on the next line was `params.a > 1`."""
    source = rule.when or ""
    if "#" not in source or getattr(node, "style", None) == "|":
        return
    for token in source_tokens(source):
        if token.type != tokenize.COMMENT:
            continue
        row, col = token.start
        line, column = _file_position(node, source, row, col + 1)
        raise ExpressionError(
            f"a # comment in rule {rule.id!r} runs to the end of its condition, which YAML "
            f"wrote on one line: it hides {_short_repr(token.string.strip())}; put comments "
            "above the rule, or write the condition as a literal block (when: |), where a "
            "comment ends at its line",
            file=file,
            line=line,
            column=column,
            text=token.string.strip(),
        )


def _comment_hint(node: Any) -> str:
    """A hint when YAML ended a plain `when` at " #", reading the rest as a comment."""
    if not _plain(node) or node.end_mark.buffer is None:
        return ""
    buffer, end = node.end_mark.buffer, node.end_mark.index
    rest = buffer[end : (buffer.find("\n", end) + 1 or len(buffer) + 1) - 1]
    if not rest.lstrip(" \t").startswith("#"):
        return ""
    return (
        f"; YAML read {rest.strip()!r} after it as a comment (a space then # ends an unquoted "
        "value): quote the whole condition, or write it as a block (when: >)"
    )


def _file_position(
    node: Any, value: str, line: int | None, column: int | None
) -> tuple[int | None, int | None]:
    """The file position of 1-based (line, column) within a scalar's value.

    A YAML scalar's value is not its source text: plain, quoted and folded scalars join
    lines, quoted ones have escapes, block scalars drop the indentation. The value is
    walked against the source to find where each of its characters was written.
    """
    if node is None or not isinstance(node, yaml.ScalarNode):
        return None, None
    start = node.start_mark
    lines = value.split("\n")
    row = min(max(line or 1, 1), len(lines))
    offset = sum(len(t) + 1 for t in lines[: row - 1]) + max((column or 1) - 1, 0)
    where = _source_index(value, start.buffer, start.index, node.end_mark.index, node.style)
    if where is None or start.buffer is None:
        return start.line + 1, start.column + 1
    index = where[min(offset, len(where) - 1)] if where else start.index
    before = start.buffer[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


_ESCAPE_WIDTH = {"x": 4, "u": 6, "U": 10}  # a backslash escape, backslash included


def _source_index(
    value: str, source: str | None, begin: int, end: int, style: str | None
) -> list[int] | None:
    """For each character of a scalar's value, its index in `source`; None when the walk
    loses its way (then the scalar's start is the best position known)."""
    if source is None:
        return None
    i = begin
    if style in ("|", ">"):  # the value starts on the line after the header
        i = source.find("\n", begin, end) + 1 or end
    elif style in ('"', "'"):
        i += 1
    found: list[int] = []
    for ch in value:
        if style == '"':
            while source.startswith("\\\n", i) or source.startswith("\\\r\n", i):
                i = source.find("\n", i) + 1  # an escaped line break: nothing in the value
        if ch.isspace():  # written as itself, escaped, or a folded line break
            found.append(min(i, end))
            if style == '"' and source.startswith("\\", i):
                i += _ESCAPE_WIDTH.get(source[i + 1 : i + 2], 2)
            elif i < end and source[i] == ch:
                i += 1
            continue
        while i < end and source[i] in " \t\r\n":
            i += 1
        if i >= end:
            return None
        found.append(i)
        if style == '"' and source[i] == "\\":  # in double quotes a backslash is an escape
            i += _ESCAPE_WIDTH.get(source[i + 1 : i + 2], 2)
        elif source[i] == ch:
            i += 2 if style == "'" and ch == "'" else 1
        else:
            return None
    return found


def _check_template(rule: RuleSpec, file: str, positions: Mapping[Any, Any], index: int) -> None:
    stray = _stray_brace(rule.message)
    if stray is not None:
        line, col = _message_position(positions, index, rule.message, stray)
        raise PolicyError(
            f"message of rule {rule.id!r} has a brace that is not part of a placeholder; "
            "placeholders are field paths in braces, as in {params.amount} or {item.tags[0]}",
            file=file,
            line=line,
            column=col,
            text=rule.message,
        )
    for match in TEMPLATE.finditer(rule.message):
        name = match.group(1)
        line, col = _message_position(positions, index, rule.message, match.start())
        if not PLACEHOLDER.match(name):
            raise PolicyError(
                f"message placeholder {{{name}}} in rule {rule.id!r} is not a field path; "
                "write names joined by dots, with [n] for list indexes, as in "
                "{params.amount} or {item.tags[0]}",
                file=file,
                line=line,
                column=col,
            )
        root = name.split(".", 1)[0].split("[", 1)[0]
        loops = _loop_variables(rule.when)
        if root in loops:
            instead = loops[root] or "params.amount"
            raise PolicyError(
                f"message placeholder {{{name}}} in rule {rule.id!r} names {root!r}, a loop "
                "variable of any()/all() in `when`: it exists only while the condition runs, "
                f"and a message is filled from the input; name a field such as {{{instead}}} "
                "instead (the hit's evidence records the values the condition read)",
                file=file,
                line=line,
                column=col,
            )
        if root not in {"action", "kind", "actor", "tenant", "params", "context", "item", "score"}:
            raise PolicyError(
                f"message template names {name!r} in rule {rule.id!r}; templates may name "
                "action, kind, actor, tenant, params, context, item, score",
                file=file,
                line=line,
                column=col,
            )
        if root in (_ITEM_ONLY if rule.scope == "action" else _ACTION_ONLY):
            has = "item" if rule.scope == "action" else "action"
            raise PolicyError(
                f"message placeholder {{{name}}} in rule {rule.id!r} names {root!r}, which only "
                f"{has} rules have, so rule {rule.id!r} (scope: {rule.scope}) would always "
                "write <missing> there",
                file=file,
                line=line,
                column=col,
            )
        if root in _STRINGS and name != root:
            raise PolicyError(
                f"message placeholder {{{name}}} in rule {rule.id!r} reads into {root!r}, "
                f"which is a string (or null), never an object or a list, so it would always "
                f"write <missing> there; write {{{root}}}",
                file=file,
                line=line,
                column=col,
            )


def _stray_brace(message: str) -> int | None:
    """The offset of the first brace of `message` outside a `{path}` placeholder, or None."""
    pos = 0
    for match in (*TEMPLATE.finditer(message), None):
        end = len(message) if match is None else match.start()
        found = min((i for i in (message.find(b, pos, end) for b in "{}") if i >= 0), default=-1)
        if found >= 0:
            return found
        if match is not None:
            pos = match.end()
    return None


def _message_position(
    positions: Mapping[Any, Any], index: int, message: str, offset: int
) -> tuple[int | None, int | None]:
    """The file position of the character at `offset` in rule `index`'s message."""
    node = positions.get(("rules", index, "message"))
    if node is None:
        return where(positions, ("rules", index, "message")) or (None, None)
    before = message[:offset]
    return _file_position(node, message, before.count("\n") + 1, offset - before.rfind("\n"))


@functools.lru_cache(maxsize=256)  # each load-time check of a rule reads the same tree
def _parse_when(when: str) -> tuple[ast.Expression | None, int]:
    """A compiled condition's tree, read as compile_expr reads it, and the lines its
    parse added before the text (1 for a multi-line condition, wrapped in parentheses).
    The tree is shared: callers only read it."""
    shift = 1 if "\n" in when.strip() else 0
    try:
        return ast.parse(f"(\n{when}\n)" if shift else when, mode="eval"), shift
    except (SyntaxError, ValueError):  # compile_expr accepted it: not expected
        return None, 0


def _loop_variables(when: str | None) -> dict[str, str | None]:
    """The loop variables of a condition's any()/all() generators, each with the first
    field path its loop reads (`params.command` in `for w in shell_words(params.command)`)."""
    tree = None if when is None else _parse_when(when)[0]
    found: dict[str, str | None] = {}
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.GeneratorExp):
            for comp in node.generators:
                if isinstance(comp.target, ast.Name):
                    paths = (ast.unparse(n) for n in ast.walk(comp.iter))
                    field = next((p for p in paths if "." in p and PLACEHOLDER.match(p)), None)
                    found[comp.target.id] = field
    return found


# Names only one scope has: an action rule has no item, an item rule no action.
_ITEM_ONLY = frozenset({"item", "items"})
_ACTION_ONLY = frozenset({"action", "kind", "params", "attribution", "rationale"})
#: Names whose value is a string or null (the action's validated fields): never a container.
_STRINGS = frozenset({"kind", "actor", "tenant"})


def _check_names(
    rule: RuleSpec, when: CompiledExpr, file: str, positions: Mapping[Any, Any], index: int
) -> None:
    """Refuse a condition that reads a name its scope never has: it could not be
    evaluated for any input, so every action (or item) would take `on_error`."""
    wrong = when.names_used & (_ITEM_ONLY if rule.scope == "action" else _ACTION_ONLY)
    if not wrong:
        return
    tree, shift = _parse_when(when.source)
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in wrong] if tree else []
    first = min(nodes, key=lambda n: (n.lineno, n.col_offset), default=None)
    name = first.id if first is not None else sorted(wrong)[0]
    line, col = _when_position(positions, index, when.source, first, shift)
    fix = (
        "add scope: item to check each ranked item"
        if rule.scope == "action"
        else "item rules see item, items, score, context, actor, tenant and pii"
    )
    raise PolicyError(
        f"rule {rule.id!r} has scope: {rule.scope}, but its condition reads {name!r}, which "
        f"only {'item' if rule.scope == 'action' else 'action'} rules have, so it could "
        f"never be evaluated and every input would take on_error; {fix}",
        file=file,
        line=line,
        column=col,
    )


def _check_string_fields(
    rule: RuleSpec, when: CompiledExpr, file: str, positions: Mapping[Any, Any], index: int
) -> None:
    """Refuse a step into `kind`, `actor` or `tenant` (`actor.role`): each is a string or
    null, so the path is missing on every input and the rule always takes on_error (or
    has() is always false, get() always its default)."""
    if not when.names_used & _STRINGS:
        return
    tree, shift = _parse_when(when.source)
    steps = [
        n
        for n in (ast.walk(tree) if tree is not None else ())
        if isinstance(n, (ast.Attribute, ast.Subscript))
        and isinstance(n.value, ast.Name)
        and n.value.id in _STRINGS
    ]
    if not steps:
        return
    first = min(steps, key=lambda n: (n.lineno, n.col_offset))
    root = first.value.id  # type: ignore[attr-defined]
    text = f"(\n{when.source}\n)" if shift else when.source
    path = ast.get_source_segment(text, first) or root
    line, col = _when_position(positions, index, when.source, first, shift)
    raise PolicyError(
        f"rule {rule.id!r} reads {path!r}, but {root!r} is a string (or null), never an "
        "object or a list, so that field is missing on every input and the rule would "
        f"always take on_error; compare {root!r} itself, or read a field of context or params",
        file=file,
        line=line,
        column=col,
    )


def _when_position(
    positions: Mapping[Any, Any], index: int, source: str, node: ast.expr | None, shift: int
) -> tuple[int | None, int | None]:
    """The file position of `node` (from `_parse_when`) in rule `index`'s condition."""
    if node is None:
        return where(positions, ("rules", index, "when")) or (None, None)
    scalar = positions.get(("rules", index, "when"))
    row = node.lineno - shift
    lines = source.split("\n")
    text = lines[row - 1] if 0 < row <= len(lines) else ""
    # ast counts a column in UTF-8 bytes: "é" before the node is one character, two bytes
    column = len(text.encode("utf-8")[: node.col_offset].decode("utf-8", "ignore"))
    return _file_position(scalar, source, row, column + 1)


#: Calls whose argument at this index is a window (`rate`, `total`), or where a `pii.*`
#: call's entity types start.
_WINDOW_ARG = {"rate": 1, "total": 2}
_PII_ENTITY_ARG = {"pii.any": 0, "pii.count": 0, "pii.max_score": 0, "pii.in_field": 1}
_NAMED = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}
_NOT_LITERAL = object()


def _literal(node: ast.expr) -> Any:
    """The value of a literal argument (`60`, `-5`, `"1m"`, `true`), else _NOT_LITERAL."""
    if isinstance(node, ast.Name):
        return _NAMED.get(node.id, _NOT_LITERAL)
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT_LITERAL


def _check_calls(
    rule: RuleSpec,
    when: CompiledExpr,
    pii: PiiSettings | None,
    file: str,
    positions: Mapping[Any, Any],
    index: int,
) -> None:
    """Refuse a call that no input could answer, so every input would take on_error: a
    literal window `rate()`/`total()` refuse, a `pii.*` call in a pack that scans nothing,
    or one asking about an entity type or field its `pii` settings never scan."""
    tree, shift = _parse_when(when.source)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)] if tree else []
    for call in sorted(calls, key=lambda n: (n.lineno, n.col_offset)):
        found = _call_problem(ast.unparse(call.func), call, pii)
        if found is not None:
            problem, at = found
            line, col = _when_position(positions, index, when.source, at, shift)
            raise PolicyError(f"{problem} in rule {rule.id!r}", file=file, line=line, column=col)


def _call_problem(
    name: str, call: ast.Call, pii: PiiSettings | None
) -> tuple[str, ast.expr] | None:
    """What makes `call` unanswerable for every input (with the argument at fault), if any."""
    args = call.args
    if name in _WINDOW_ARG and len(args) > _WINDOW_ARG[name]:
        arg = args[_WINDOW_ARG[name]]
        value = _literal(arg)
        problem = None if value is _NOT_LITERAL else window_problem(value)
        if problem is not None:
            hint = "; write seconds as a number, as in 60 for a minute" * isinstance(value, str)
            return f"{name}() needs {problem}{hint}", arg
    if name not in _PII_ENTITY_ARG:
        return None
    if pii is None:
        return (
            f"{name}() asks about PII, but the pack has no `pii` section, so no PII scan runs "
            "and the call could never be answered: every input would take on_error; add "
            "pii: {entities: [...], fields: [...]}"
        ), call
    start = _PII_ENTITY_ARG[name]
    if start and args and isinstance(field := _literal(args[0]), str):
        shape, fields = _field_shape(field), [_field_shape(f) for f in pii.fields]
        if not any(_under(shape, f) or _under(f, shape) for f in fields):
            return (
                f"{name}() asks about field {field!r}, which pii.fields never scans "
                f"({', '.join(pii.fields)}), so the call could never be answered: every input "
                "would take on_error; add the field to pii.fields"
            ), args[0]
    for arg in args[start:]:
        entity = _literal(arg)
        if isinstance(entity, str) and entity not in pii.entities:
            return (
                f"{name}() asks for entity type {entity!r}, which pii.entities never scans "
                f"({', '.join(pii.entities)}), so the call could never be answered: every "
                "input would take on_error; add it to pii.entities"
            ), arg
    return None


def _check_domain_literals(
    rule: RuleSpec, when: CompiledExpr, file: str, positions: Mapping[Any, Any], index: int
) -> None:
    """Refuse a host `domain()` never returns, compared with what it returns: it gives
    lower-case punycode without a trailing dot, so `domain(u) in ["bücher.de"]` or
    `== "Docs.Python.org"` could never be true (a block-list that never blocks)."""
    tree, shift = _parse_when(when.source)
    for node in ast.walk(tree) if tree is not None else ():
        pairs: list[tuple[ast.expr, ast.expr]] = []
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            pairs = [
                (a, b) if _is_domain_call(a) else (b, a)
                for a, b, op in zip(sides, sides[1:], node.ops, strict=False)
                if isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn)
                and (_is_domain_call(a) or _is_domain_call(b))
            ]
        elif isinstance(node, ast.Call) and ast.unparse(node.func) in ("startswith", "endswith"):
            if len(node.args) == 2 and _is_domain_call(node.args[0]):
                pairs = [(node.args[0], node.args[1])]
        affix = ast.unparse(node.func) if isinstance(node, ast.Call) else ""
        for _, other in pairs:
            for at in other.elts if isinstance(other, ast.List | ast.Tuple | ast.Set) else [other]:
                host = _literal(at)
                meant = _domain_spelling(host, affix) if isinstance(host, str) else None
                if meant is not None and meant != host:
                    line, col = _when_position(positions, index, when.source, at, shift)
                    raise PolicyError(
                        f"rule {rule.id!r} compares domain() with {host!r}, which it never "
                        "returns: domain() gives hosts in lower case, international names in "
                        f"punycode, without a trailing dot; write {meant!r}",
                        file=file,
                        line=line,
                        column=col,
                    )


def _check_case_literals(
    rule: RuleSpec, when: CompiledExpr, file: str, positions: Mapping[Any, Any], index: int
) -> None:
    """Refuse text `lower()` (or `upper()`) never returns, compared with what it returns:
    `lower(params.to) in ["admin", "Root"]` never holds for "Root" (a block-list that never
    blocks), nor `endswith(lower(u), "@Corp.com")` nor `"Drop" in lower(q)`. Every letter
    lower() writes is one lower() keeps, so a literal with another is never part of it."""
    tree, shift = _parse_when(when.source)
    for node in ast.walk(tree) if tree is not None else ():
        checks: list[tuple[str, ast.expr]] = []  # (the case function, a literal it meets)
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            for a, b, op in zip(sides, sides[1:], node.ops, strict=False):
                if isinstance(op, ast.Eq | ast.NotEq):
                    if (case := _case_call(a)) or (case := _case_call(b)):
                        checks.append((case, b if _case_call(a) else a))
                elif isinstance(op, ast.In | ast.NotIn):
                    if (case := _case_call(a)) and isinstance(b, ast.List | ast.Tuple | ast.Set):
                        checks += [(case, e) for e in b.elts]  # one of the members
                    elif case := _case_call(b):
                        checks.append((case, a))  # a part of what lower() returned
        elif isinstance(node, ast.Call) and ast.unparse(node.func) in ("startswith", "endswith"):
            if len(node.args) == 2 and (case := _case_call(node.args[0])):
                affixes = node.args[1]
                elts = affixes.elts if isinstance(affixes, ast.List | ast.Tuple) else [affixes]
                checks += [(case, e) for e in elts]
        for case, at in checks:
            text = _literal(at)
            if not isinstance(text, str):
                continue
            fold = str.lower if case == "lower" else str.upper
            if any(fold(ch) != ch for ch in text):
                line, col = _when_position(positions, index, when.source, at, shift)
                raise PolicyError(
                    f"rule {rule.id!r} compares {case}() with {text!r}, which it never "
                    f"returns: {case}() gives {case}-case text; write {fold(text)!r}",
                    file=file,
                    line=line,
                    column=col,
                )


def _case_call(node: ast.expr) -> str:
    """'lower' or 'upper' for a call of that function, else ''."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id if node.func.id in ("lower", "upper") else ""
    return ""


def _is_domain_call(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and ast.unparse(node.func) == "domain"


def _domain_spelling(host: str, affix: str = "") -> str | None:
    """How `domain()` writes `host` (a leading dot of a suffix kept, and a trailing one of
    a prefix: `startswith(domain(u), "www.")`), or None if it cannot be read as a host.
    A URL, a port or a user part is read as a browser would (`https://Docs.python.org:443`
    is `docs.python.org`): domain() returns the host alone. A prefix or suffix that ends
    in a number is part of an IPv4 address (`startswith(domain(u), "10.")`), not one."""
    dot = "." if host.startswith(".") else ""
    body = host.removeprefix(dot)
    end = "." if affix == "startswith" and body.endswith(".") else ""
    if affix and _ends_in_number(body.removesuffix(".").lower()):
        return None
    try:
        return dot + ipv6_host(body.removeprefix("[").removesuffix("]"))
    except ValueError:
        pass
    for url in (body, f"//{body}/"):
        try:
            return dot + _domain(url) + end
        except EvaluationError:
            continue
    return None


def _check_scope(rule: RuleSpec, file: str, positions: Mapping[Any, Any], index: int) -> None:
    """Refuse what a rule's scope would silently ignore: a kind filter outside action
    rules (rankings have no kind), and a cap whose effect keeps the excess items."""
    problem, key = None, ""
    if rule.match is not None and rule.scope != "action":
        problem, key = (
            f"`match` filters actions by kind, but rule {rule.id!r} has scope: "
            f"{rule.scope}, which has no kind; remove `match`",
            "match",
        )
    elif rule.scope == "list" and rule.effect in (Verdict.ALLOW, Verdict.REDACT):
        problem, key = (
            f"a cap drops the items over its max, but rule {rule.id!r} has effect: "
            f"{rule.effect.value}, which keeps them; expected one of deny, escalate",
            "effect",
        )
    if problem is not None:
        line, col = where(positions, ("rules", index, key)) or (None, None)
        raise PolicyError(problem, file=file, line=line, column=col)


def is_test_file(path: Path) -> bool:
    return path.name.endswith((".test.yaml", ".test.yml"))
