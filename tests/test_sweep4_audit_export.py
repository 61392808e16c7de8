"""The decisions export streams a page of JSON lines per chunk, not a chunk per line."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from guard.audit import open_audit
from service._decisions import _export


def record(n: int) -> dict[str, Any]:
    return {"schema_version": "guard.decision/v1", "id": f"d{n}", "verdict": "allow", "n": n}


@pytest.mark.parametrize(
    ("size", "chunks"),
    [
        pytest.param(0, 0, id="empty"),
        pytest.param(1, 1, id="one"),
        pytest.param(1000, 1, id="one-full-page"),
        pytest.param(2500, 3, id="three-pages"),
    ],
)
def test_export_sends_a_chunk_per_page_with_every_record_once(size: int, chunks: int) -> None:
    with open_audit("memory://") as log:
        log.append_many([record(n) for n in range(size)])
        sent = list(_export(log, {"record_type": "guard.decision/v1"}))
    assert len(sent) == chunks
    lines = b"".join(sent).splitlines()
    assert [orjson.loads(line)["index"] for line in lines] == list(range(size - 1, -1, -1))
