"""Field paths for PII scans: where to look in an action, and what happened at each place.

Syntax: `params.message`, `params.attachments[*].text`, `params.attachments[0].text`, and
`$` to step into a string that holds JSON: `params.args$.body`, `params.args$[0]`. When
JSON expansion is on, a string whose text is a JSON object or array is expanded to its
string leaves, reported as `params.args$.body`, `params.args$.items[2].text`; a key that
is not a plain name is quoted: `params.args$["e-mail address"]`.

A field that holds a list or an object is scanned leaf by leaf, like an expanded JSON
document: `params.message[0]`, `params.message.inner`. Numbers are scanned as the text
they print as (a phone number is often sent as one); booleans and nulls inside a list or
object carry no text and are skipped.

Unlike a lookup that silently skips what it cannot reach, `resolve` yields one outcome
per place: a text to scan, a missing field, or an error saying why it cannot be scanned.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from guard._paths import parse_path


class _JsonStep:
    """The `$` step: parse the current string as JSON and continue inside it."""

    _instance: _JsonStep | None = None

    def __new__(cls) -> _JsonStep:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "JSON"


JSON: Final = _JsonStep()
Step = str | int | None | _JsonStep  # None stands for `[*]`
Concrete = tuple[str | int | _JsonStep, ...]

MAX_JSON_DEPTH = 4  # JSON strings inside JSON strings, at most this deep
MAX_PATH_STEPS = 300  # lists and objects inside a field (inputs nest at most 200 deep)
_NAME = re.compile(r"[A-Za-z0-9_\-]+\Z")  # \Z: "$" would also match before a final newline


def parse_field(field: str) -> tuple[Step, ...]:
    """Parse a configured field path, or raise ValueError saying what is wrong."""
    if not isinstance(field, str) or not field.strip():
        raise ValueError(f"field path must be a non-empty string, got {field!r}")
    head, *docs = field.split("$")
    try:
        steps: list[Step] = list(parse_path(head))
    except ValueError:
        raise ValueError(_bad(field)) from None
    if not isinstance(steps[0], str):
        raise ValueError(f"field path {field!r} must start with a key, like 'params.message'")
    for doc in docs:
        steps.append(JSON)
        if not doc:
            continue
        if doc[0] not in ".[":
            raise ValueError(_bad(field))
        try:
            steps.extend(parse_path(doc))
        except ValueError:
            raise ValueError(_bad(field)) from None
    return tuple(steps)


def _bad(field: str) -> str:
    return (
        f"bad field path {field!r}; expected keys joined by '.', list steps '[*]' or '[2]', "
        f"and '$' to step into a JSON string, e.g. 'params.attachments[*].text' or "
        f"'params.args$.body'"
    )


def format_concrete(path: Concrete) -> str:
    """Render a concrete path: `params.attachments[1].text`, `params.args$.body`."""
    out: list[str] = []
    for step in path:
        if step is JSON:
            out.append("$")
        elif isinstance(step, int):
            out.append(f"[{step}]")
        elif isinstance(step, str) and _NAME.match(step):
            out.append(f".{step}" if out else step)
        else:
            out.append(f"[{json.dumps(step, ensure_ascii=False)}]")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Target:
    """A string at a concrete path, to be scanned."""

    path: Concrete
    text: str


@dataclass(frozen=True, slots=True)
class Problem:
    """A place that cannot be scanned: `missing` (absent or null) or `error` (why not)."""

    path: Concrete
    kind: str
    message: str


Outcome = Target | Problem


def _type(value: Any) -> str:
    if value is None:
        return "null"
    return type(value).__name__


def _looks_like_json(text: str) -> bool:
    stripped = text.strip()
    return len(stripped) >= 2 and (
        (stripped[0] == "{" and stripped[-1] == "}") or (stripped[0] == "[" and stripped[-1] == "]")
    )


def _load_json(text: str) -> tuple[bool, Any, str]:
    try:
        return True, json.loads(text), ""
    except RecursionError:
        return False, None, "JSON nested too deeply to scan"
    except ValueError as exc:
        return False, None, f"not valid JSON ({exc})"


def resolve(
    data: Any,
    steps: tuple[Step, ...],
    *,
    expand_json: bool = True,
    max_chars: int | None = None,
) -> Iterator[Outcome]:
    """Yield one outcome per place the path reaches in `data`, in document order."""
    stack: list[tuple[Any, int, Concrete, int]] = [(data, 0, (), 0)]
    while stack:
        value, i, done, depth = stack.pop()
        if i == len(steps):
            yield from _leaf(value, done, depth, stack, steps, expand_json, max_chars)
            continue
        step = steps[i]
        if value is None:
            yield Problem(done, "missing", "is null")
        elif step is JSON:
            yield from _enter_json(value, i, done, depth, stack, max_chars)
        elif isinstance(step, str):
            if not isinstance(value, Mapping):
                yield Problem(done, "error", f"expected an object, got {_type(value)}")
            elif step not in value:
                yield Problem((*done, step), "missing", "is missing")
            else:
                stack.append((value[step], i + 1, (*done, step), depth))
        elif not isinstance(value, list | tuple):
            yield Problem(done, "error", f"expected a list, got {_type(value)}")
        elif step is None:
            for k in range(len(value) - 1, -1, -1):
                stack.append((value[k], i + 1, (*done, k), depth))
        elif isinstance(step, int):
            if step < len(value):
                stack.append((value[step], i + 1, (*done, step), depth))
            else:
                yield Problem((*done, step), "missing", "is missing")


def _enter_json(
    value: Any,
    i: int,
    done: Concrete,
    depth: int,
    stack: list[tuple[Any, int, Concrete, int]],
    max_chars: int | None,
) -> Iterator[Outcome]:
    if not isinstance(value, str):
        yield Problem(done, "error", f"expected a JSON string, got {_type(value)}")
        return
    if depth >= MAX_JSON_DEPTH:
        yield Problem(done, "error", f"JSON strings nested more than {MAX_JSON_DEPTH} deep")
        return
    if max_chars is not None and len(value) > max_chars:
        yield Target(done, value)  # the scanner refuses it with a size error
        return
    ok, doc, why = _load_json(value)
    if not ok:
        yield Problem(done, "error", why)
        return
    stack.append((doc, i + 1, (*done, JSON), depth + 1))


def _leaf(
    value: Any,
    done: Concrete,
    depth: int,
    stack: list[tuple[Any, int, Concrete, int]],
    steps: tuple[Step, ...],
    expand_json: bool,
    max_chars: int | None,
) -> Iterator[Outcome]:
    if isinstance(value, str):
        too_big = max_chars is not None and len(value) > max_chars
        if expand_json and not too_big and depth < MAX_JSON_DEPTH and _looks_like_json(value):
            ok, doc, _ = _load_json(value)
            if ok and isinstance(doc, dict | list):
                if not _push_children(doc, (*done, JSON), depth + 1, len(steps), stack):
                    yield Problem(done, "missing", "holds no text")
                return
        yield Target(done, value)
    elif value is None:
        yield Problem(done, "missing", "is null")
    elif isinstance(value, Mapping | list | tuple):
        if len(done) > MAX_PATH_STEPS:
            yield Problem(done, "error", f"nested more than {MAX_PATH_STEPS} levels deep")
        elif not _push_children(value, done, depth, len(steps), stack):
            yield Problem(done, "missing", "holds no text")
    else:
        text = leaf_text(value)
        if text is None:
            yield Problem(done, "error", f"expected text, got {_type(value)}")
        else:
            yield Target(done, text)


def leaf_text(value: Any) -> str | None:
    """The text a scalar leaf is scanned as, or None when it is not a JSON scalar.

    A string is itself; a number is scanned as it prints (`4165550199` may be a phone
    number), a boolean as its JSON spelling.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        try:
            return str(value)
        except ValueError:  # an int beyond sys.get_int_max_str_digits()
            return None
    return None


def _no_text(value: Any) -> bool:
    return (
        value is None
        or isinstance(value, bool)
        or (isinstance(value, Mapping | list | tuple) and not value)
    )


def _push_children(
    node: Any,
    done: Concrete,
    depth: int,
    end: int,
    stack: list[tuple[Any, int, Concrete, int]],
) -> int:
    """Push the children of a list or object back onto the resolver's stack, in order.

    Each child is resolved as a leaf again: a string is scanned (or expanded when it
    holds JSON), a number is scanned as text, a list or object is entered in turn (no
    recursion; `_leaf` refuses more than MAX_PATH_STEPS steps). Nulls, booleans and empty
    lists or objects carry no text and are skipped; keys are names, not values, and are
    not scanned. Returns how many were pushed.
    """
    if isinstance(node, Mapping):
        children: list[tuple[str | int, Any]] = [(str(k), v) for k, v in node.items()]
    else:
        children = list(enumerate(node))
    kept = [(k, v) for k, v in children if not _no_text(v)]
    stack.extend((v, end, (*done, k), depth) for k, v in reversed(kept))
    return len(kept)


def json_copy(value: Any) -> Any:
    """A deep copy of JSON-like data that survives any nesting depth (no recursion)."""
    if not isinstance(value, Mapping | list | tuple):
        return value if isinstance(value, str | int | float | bool | None) else copy.deepcopy(value)
    root: list[Any] = [None]
    todo: list[tuple[Any, Any, Any]] = [(value, root, 0)]
    while todo:
        src, parent, key = todo.pop()
        if isinstance(src, Mapping):
            dst: Any = {}
            for k, v in src.items():
                dst[k] = None
                todo.append((v, dst, k))
        elif isinstance(src, list | tuple):
            dst = [None] * len(src)
            for k, v in enumerate(src):
                todo.append((v, dst, k))
        elif isinstance(src, str | int | float | bool | None):
            dst = src
        else:
            dst = copy.deepcopy(src)
        parent[key] = dst
    return root[0]


def update_at(data: Any, path: Concrete, change: Callable[[Any], Any]) -> None:
    """Replace the value at `path` in `data` (a copy the caller owns) by `change(value)`.

    A `$` step parses the string there, updates inside the document and writes it back
    as JSON text, so values inside tool-call arguments can be redacted in place.
    """
    for cut, step in enumerate(path):
        if step is JSON:

            def rewrite(text: Any, inner: Concrete = path[cut + 1 :]) -> Any:
                doc = json.loads(text)
                if not inner:
                    return json.dumps(change(doc), ensure_ascii=False)
                update_at(doc, inner, change)
                return json.dumps(doc, ensure_ascii=False)

            return _update_plain(data, path[:cut], rewrite)
    _update_plain(data, path, change)


def _update_plain(data: Any, path: Concrete, change: Callable[[Any], Any]) -> None:
    if not path:
        raise ValueError("cannot replace the root of an action")
    target = data
    for step in path[:-1]:
        target = target[step]
    last = path[-1]
    target[last] = change(target[last])


def exists(data: Any, path: Concrete) -> bool:
    """True when `path` reaches a value in `data` (through JSON strings too)."""
    node = data
    for step in path:
        if step is JSON:
            if not isinstance(node, str):
                return False
            ok, node, _ = _load_json(node)
            if not ok:
                return False
        elif isinstance(step, str):
            if not isinstance(node, Mapping) or step not in node:
                return False
            node = node[step]
        elif isinstance(step, int):
            if not isinstance(node, list) or not 0 <= step < len(node):
                return False
            node = node[step]
    return True


_CONCRETE = re.compile(
    r'(?P<key>(?:^|\.)[A-Za-z0-9_\-]+)|\[(?P<index>\d+)\]|\[(?P<quoted>"(?:[^"\\]|\\.)*")\]|(?P<json>\$)'
)


def parse_concrete(path: str) -> Concrete:
    """Parse a concrete path as `format_concrete` writes it (a finding's `field`)."""
    steps: list[str | int | _JsonStep] = []
    pos = 0
    for m in _CONCRETE.finditer(path):
        if m.start() != pos:
            break
        if m.group("key") is not None:
            steps.append(m.group("key").lstrip("."))
        elif m.group("index") is not None:
            steps.append(int(m.group("index")))
        elif m.group("quoted") is not None:
            steps.append(json.loads(m.group("quoted")))
        else:
            steps.append(JSON)
        pos = m.end()
    if pos != len(path) or not steps:
        raise ValueError(f"not a concrete field path: {path!r}")
    return tuple(steps)
