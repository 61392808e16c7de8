"""Rule message templates: `{params.amount}` placeholders filled by dotted lookup."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from guard._validate import MAX_EXACT_INT

TEMPLATE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.\-\[\]]*)\}")
MISSING = object()

# (evidence key, value) -> the value safe to store: PII fields come back masked.
Masker = Callable[[str, Any], Any]


def fill_template(template: str, env: Mapping[str, Any], mask: Masker | None = None) -> str:
    """Fill `{params.amount}`-style placeholders by dotted lookup (never str.format)."""
    return fill_parts(split_template(template), env, mask)


Step = tuple[str, int | None]  # a dict key, and its list index when it is an integer
Placeholder = tuple[str, tuple[Step, ...]]  # the path as written, and its parsed steps


def split_template(template: str) -> tuple[str | Placeholder, ...]:
    """Split a message once at load: literal text, and the paths to fill (parsed once)."""
    parts: list[str | Placeholder] = []
    pos = 0
    for match in TEMPLATE.finditer(template):
        path = match.group(1)
        parts += [template[pos : match.start()], (path, parse_steps(path))]
        pos = match.end()
    parts.append(template[pos:])
    return tuple(p for p in parts if p != "")


def fill_parts(
    parts: tuple[str | Placeholder, ...], env: Mapping[str, Any], mask: Masker | None = None
) -> str:
    """Join a split template, looking each path up in `env` (masked where PII)."""
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        path, steps = part
        value = lookup_steps(env, steps)
        if value is MISSING:
            out.append("<missing>")
            continue
        if mask is None:
            plain = _plain_scalar(value)
            if plain is not None:
                out.append(plain[:MAX_FILLED])
                continue
        text = _Text()
        text.value(value, path, mask, quote=False)
        out.append(text.result())
    return "".join(out)


MAX_FILLED = 200  # characters of one filled placeholder


class _Text:
    """One placeholder's value as text: scalars as JSON spells them (true, null), objects
    and lists as JSON, each leaf masked under its own path (so that `{params}` never shows
    a PII field that `{params.message}` would mask), cut at MAX_FILLED characters."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def result(self) -> str:
        return "".join(self.parts)[:MAX_FILLED]

    def value(self, value: Any, path: str, mask: Masker | None, *, quote: bool) -> None:
        if self.size > MAX_FILLED:
            return
        if isinstance(value, Mapping):
            self.add("{")
            for n, (key, child) in enumerate(value.items()):
                if self.size > MAX_FILLED:
                    break
                self.add(f"{', ' if n else ''}{json.dumps(str(key), ensure_ascii=False)}: ")
                self.value(child, f"{path}.{key}", mask, quote=True)
            self.add("}")
        elif isinstance(value, (list, tuple)):
            self.add("[")
            for n, child in enumerate(value):
                if self.size > MAX_FILLED:
                    break
                self.add(", " if n else "")
                self.value(child, f"{path}[{n}]", mask, quote=True)
            self.add("]")
        else:
            leaf = value if mask is None else mask(path, value)
            if isinstance(leaf, (Mapping, list, tuple)):  # a masker's own masked copy
                self.value(leaf, path, None, quote=quote)
            else:
                self.add(_scalar(leaf, quote))


_SPELLED = {True: "true", False: "false", None: "null"}


def _plain_scalar(value: Any) -> str | None:
    """An unmasked placeholder's text when `value` is a plain scalar, as `_scalar` writes it
    unquoted, without its general path (most messages fill a name or a number); else None."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is int and -MAX_EXACT_INT <= value <= MAX_EXACT_INT:
        return repr(value)  # what json.dumps writes for an int
    if kind is bool or value is None:
        return _SPELLED[value]
    return None


def _scalar(value: Any, quote: bool) -> str:
    if type(value) is str:
        return json.dumps(value, ensure_ascii=False) if quote else value
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 1000:
        return f"<number with {value.bit_length()} bits>"  # str() of it may raise or be slow
    if value is None or isinstance(value, (bool, int, float)):
        return json.dumps(value)  # true, false, null; NaN and Infinity as Python writes them
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if quote else text


def parse_steps(path: str) -> tuple[Step, ...]:
    """`a.b[0]` -> (("a", None), ("b", None), ("0", 0))."""
    keys = path.replace("[", ".").replace("]", "").split(".")
    # No list is longer than 18 digits; int() of thousands of digits raises, so a longer
    # run of digits is a key that names nothing a list holds.
    return tuple(
        (k, int(k) if k.lstrip("-").isdigit() and len(k) <= _MAX_INDEX_CHARS else None)
        for k in keys
    )


_MAX_INDEX_CHARS = 19


def lookup(env: Mapping[str, Any], path: str) -> Any:
    """Follow a dotted path through dicts; `MISSING` when any step is absent."""
    return lookup_steps(env, parse_steps(path))


def lookup_steps(env: Mapping[str, Any], steps: tuple[Step, ...]) -> Any:
    """Follow parsed steps through mappings and lists; `MISSING` when any step is absent."""
    value: Any = env
    for key, index in steps:
        if type(value) is dict or isinstance(value, Mapping):
            value = value.get(key, MISSING)  # MISSING is no mapping: the next step stops
        elif isinstance(value, list) and index is not None and -len(value) <= index < len(value):
            value = value[index]
        else:
            return MISSING
    return value
