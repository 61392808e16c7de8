"""Rule message templates: `{params.amount}` placeholders filled by dotted lookup."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

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
        if mask is not None:
            value = mask(path, value)
        text = value if type(value) is str else str(value)
        out.append(text if len(text) <= 200 else text[:200])
    return "".join(out)


def parse_steps(path: str) -> tuple[Step, ...]:
    """`a.b[0]` -> (("a", None), ("b", None), ("0", 0))."""
    keys = path.replace("[", ".").replace("]", "").split(".")
    return tuple((k, int(k) if k.lstrip("-").isdigit() else None) for k in keys)


def lookup(env: Mapping[str, Any], path: str) -> Any:
    """Follow a dotted path through dicts; `MISSING` when any step is absent."""
    return lookup_steps(env, parse_steps(path))


def lookup_steps(env: Mapping[str, Any], steps: tuple[Step, ...]) -> Any:
    """Follow parsed steps through mappings and lists; `MISSING` when any step is absent."""
    value: Any = env
    for key, index in steps:
        if type(value) is dict or isinstance(value, Mapping):
            value = value.get(key, MISSING)  # MISSING is no mapping: the next step stops
        elif isinstance(value, list) and index is not None and abs(index) < len(value):
            value = value[index]
        else:
            return MISSING
    return value
