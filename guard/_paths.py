"""Dotted paths into JSON-like data: `params.attachments[*].text` and friends."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

_TOKEN = re.compile(r"\.?([A-Za-z0-9_\-]+)|\[(\*|\d+)\]")

Step = str | int


def parse_path(path: str) -> tuple[Step | None, ...]:
    """Split `a.b[*].c[0]` into steps; `None` stands for every element of a list."""
    steps: list[Step | None] = []
    pos = 0
    for m in _TOKEN.finditer(path):
        if m.start() != pos:
            raise ValueError(f"bad path {path!r} at offset {pos}")
        name, index = m.groups()
        steps.append(name if name is not None else (None if index == "*" else int(index)))
        pos = m.end()
    if pos != len(path) or not steps:
        raise ValueError(f"bad path {path!r}")
    return tuple(steps)


def format_path(steps: tuple[Step, ...]) -> str:
    """The inverse of `parse_path` for concrete steps."""
    out = ""
    for s in steps:
        out += f"[{s}]" if isinstance(s, int) else (f".{s}" if out else s)
    return out


def walk(data: Any, path: str) -> Iterator[tuple[tuple[Step, ...], Any]]:
    """Yield (concrete steps, value) for every place `path` reaches in `data`."""
    yield from _walk(data, parse_path(path), ())


def _walk(
    data: Any, steps: tuple[Step | None, ...], done: tuple[Step, ...]
) -> Iterator[tuple[tuple[Step, ...], Any]]:
    if not steps:
        yield done, data
        return
    head, rest = steps[0], steps[1:]
    if head is None:
        if isinstance(data, list):
            for i, value in enumerate(data):
                yield from _walk(value, rest, (*done, i))
    elif isinstance(head, int):
        if isinstance(data, list) and -len(data) <= head < len(data):
            yield from _walk(data[head], rest, (*done, head))
    elif isinstance(data, Mapping) and head in data:
        yield from _walk(data[head], rest, (*done, head))


def set_in(data: Any, steps: tuple[Step, ...], value: Any) -> None:
    """Replace the value at concrete `steps` (the caller passes a copy it owns)."""
    target = data
    for s in steps[:-1]:
        target = target[s]
    target[steps[-1]] = value
