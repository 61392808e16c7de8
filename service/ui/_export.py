"""Exports of the filtered decisions: CSV (one row per decision) and JSONL (the records).

An export is read while it is sent. Its first chunk is read before the response starts,
so a log that cannot be read at once gets the console's error page, not a download. A
log that fails later ends the file with a line saying it is incomplete (in the CSV one
cell starting `EXPORT INCOMPLETE:`, in the JSONL the API's error shape with the code
`export_incomplete`) and leaves the body unfinished: the server drops the connection, so
the browser (or curl) reports the download failed instead of saving a file that looks whole.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from guard._exceptions import GuardError
from service._download import Download, incomplete, jsonl_failure
from service.ui._present import shown_record
from service.ui._query import LabelIndex

__all__ = ["CSV_COLUMNS", "Download", "csv_failure", "csv_lines", "jsonl_failure", "jsonl_lines"]

log = logging.getLogger("guard.service")

CSV_COLUMNS = (
    "id",
    "time",
    "tenant",
    "actor",
    "kind",
    "policy",
    "policy_version",
    "mode",
    "verdict",
    "rule_ids",
    "messages",
    "pii_types",
    "shadow_verdict",
    "shadow_agrees",
    "label",
)
_FORMULA = ("=", "+", "-", "@")
# Tab, CR (OWASP), NUL (ASVS 1.2.10) and LF lead a formula too; and spreadsheets that trim
# a cell on import (LibreOffice "Trim spaces", Google Sheets) run " =cmd" as a formula.
_LEADING = ("\t", "\r", "\n", "\0")
_TRIMMED = " \t\r\n\0"
_CHUNK_BYTES = 64 * 1024  # rows are sent in chunks: one thread hop per chunk, not per row


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_LEADING) or text.lstrip(_TRIMMED).startswith(_FORMULA):
        return "'" + text
    return text


def _row(record: dict[str, Any], labels: LabelIndex) -> list[str]:
    record = shown_record(record)  # an actor the pack scans as PII: masked, as in the record
    hits = [h for h in record.get("hits") or [] if isinstance(h, dict)]
    pii = [p for p in record.get("pii") or [] if isinstance(p, dict)]
    shadow = record.get("shadow") if isinstance(record.get("shadow"), dict) else {}
    latest = labels.latest(str(record.get("id", "")))
    values = [
        record.get("id"),
        record.get("time"),
        record.get("tenant"),
        record.get("actor"),
        record.get("kind"),
        record.get("policy"),
        record.get("policy_version"),
        record.get("mode"),
        record.get("verdict"),
        " ".join(dict.fromkeys(str(h.get("rule_id")) for h in hits)),
        " | ".join(str(h.get("message")) for h in hits if h.get("message")),
        " ".join(sorted({str(p.get("entity_type")) for p in pii})),
        shadow.get("verdict") if shadow else None,
        str(shadow.get("agrees")).lower() if shadow and "agrees" in shadow else None,
        latest.get("label") if latest else None,
    ]
    return [_cell(v) for v in values]


def csv_lines(records: Iterable[dict[str, Any]], labels: LabelIndex) -> Iterator[str]:
    """The header, then one CSV line per record, in chunks of about 64 KiB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        writer.writerow(_row(record, labels))
        if buffer.tell() >= _CHUNK_BYTES:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def jsonl_lines(records: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """One audit record (PII already masked) per line, in chunks of about 64 KiB."""
    chunk = bytearray()
    for record in records:
        chunk += orjson.dumps(record) + b"\n"
        if len(chunk) >= _CHUNK_BYTES:
            yield bytes(chunk)
            chunk.clear()
    yield bytes(chunk)


def csv_failure(error: GuardError) -> str:
    """The CSV export's last line when the log fails under it: one cell, in the id column."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([f"EXPORT INCOMPLETE: {incomplete(error)}"])
    return buffer.getvalue()
