"""Audit append throughput: AuditLog.append_many side by side with a bare insert of the bytes.

Each record is a ~1.3 KB decision record (DecisionEventV1 with a hit, a PII finding, a
masked action and timings). The guard canonicalises it (RFC 8785), hashes it as a
Merkle leaf, computes the root after it, indexes its query columns and commits, in
SQLite (WAL, synchronous=NORMAL) and, when a URL is given, PostgreSQL. The "bare"
peer writes the same pre-serialised bytes with their id into a two-column table with
the same durability settings and batch size: the floor for storing the bytes at all.

Scenarios: one caller appending batches; four threads appending batches at once
(their transactions are grouped); eight threads appending single records. Guard and
bare take turns, so a load change on the machine hits both alike; the best of the
rounds is reported, with the load average, because a shared machine is noisy.

Run: python benchmarks/bench_audit.py [--quick] [--postgres URL]
(the URL defaults to $GUARD_TEST_POSTGRES_URL; a schema is created and dropped)

Scale: python benchmarks/bench_audit.py --scale 2000000 [--db FILE] [--postgres URL]
builds (or reuses) a log of that many decision records, then measures, each in a fresh
process as an operator's sidecar or CLI would run it, the time of the first and of later
calls and the process's peak RSS: `guard audit verify`, `guard audit head`, and over HTTP
(the app from service.create_app) a decision's proof, a consistency proof and the export.
The peer is a bare primary-key read of one record from the same database.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from guard._models import DecisionEventV1
from guard.audit import AuditLog, PostgresStore, SqliteStore, canonical_json

TARGET = 20_000  # records/s batched, DESIGN.md


def decision(n: int) -> dict[str, Any]:
    """A realistic redacted-message decision record."""
    actor = f"user-{n % 101}"
    message = "Hi, could you share the draft by Friday? My mail is {} thanks"
    event = DecisionEventV1.model_validate(
        {
            "id": f"dec-{n:09d}-{secrets.token_hex(4)}",
            "time": f"2024-05-01T12:{n // 60 % 60:02d}:{n % 60:02d}.123456+00:00",
            "policy": "marketplace-agent",
            "policy_version": 3,
            "policy_digest": "sha256:" + "ab" * 32,
            "mode": "enforce",
            "tenant": f"tenant-{n % 7}",
            "actor": actor,
            "kind": "send_message",
            "action_digest": "sha256:" + "cd" * 32,
            "action": _message(actor, message.format("<EMAIL_ADDRESS>")),
            "final_action": _message(actor, message.format("[redacted]")),
            "masked": ["params.message"],
            "verdict": "redact",
            "hits": [
                {
                    "rule_id": "no-contact-before-contract",
                    "effect": "redact",
                    "message": "contact details removed before a contract exists",
                    "severity": "medium",
                    "evidence": {"context.has_contract": False, "pii.any": True},
                }
            ],
            "pii": [
                {
                    "entity_type": "EMAIL_ADDRESS",
                    "field": "params.message",
                    "start": 52,
                    "end": 68,
                    "score": 0.95,
                    "recognizer": "EmailRecognizer",
                }
            ],
            "pii_report": None,
            "timings_us": {"detect": 812.5, "evaluate": 14.25, "enforce": 3.5},
        }
    )
    return event.model_dump(mode="json")


def _message(actor: str, text: str) -> dict[str, Any]:
    return {"kind": "send_message", "actor": actor, "params": {"to": "user-42", "message": text}}


# -- writers -------------------------------------------------------------------------------


def guard_batches(log: AuditLog, records: list[dict[str, Any]], batch: int) -> None:
    for i in range(0, len(records), batch):
        log.append_many(records[i : i + batch])


def guard_singles(log: AuditLog, records: list[dict[str, Any]], _: int) -> None:
    for record in records:
        log.append(record)


def in_threads(
    write: Callable[[Any, list[Any], int], None], target: Any, items: list[Any], batch: int, n: int
) -> None:
    share = len(items) // n
    threads = [
        threading.Thread(target=write, args=(target, items[k * share : (k + 1) * share], batch))
        for k in range(n)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


class BareSqlite:
    """(id, record) rows in a WAL table, one transaction per batch."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("CREATE TABLE bare (id TEXT PRIMARY KEY, record BLOB NOT NULL)")

    def write(self, rows: list[tuple[str, bytes]]) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany("INSERT INTO bare VALUES (?, ?)", rows)
            self._conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()


class BarePostgres:
    """(id, record) rows COPYed in binary, one transaction per batch."""

    def __init__(self, url: str, schema: str) -> None:
        import psycopg

        self._conn = psycopg.connect(url, options=f"-csearch_path={schema}")
        self._conn.execute("CREATE TABLE bare (id TEXT PRIMARY KEY, record BYTEA NOT NULL)")
        self._conn.commit()
        self._lock = threading.Lock()

    def write(self, rows: list[tuple[str, bytes]]) -> None:
        with self._lock, self._conn.cursor() as cursor:
            with cursor.copy("COPY bare (id, record) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["text", "bytea"])
                for row in rows:
                    copy.write_row(row)
            self._conn.commit()

    def close(self) -> None:
        self._conn.close()


def bare_batches(bare: BareSqlite | BarePostgres, rows: list[tuple[str, bytes]], b: int) -> None:
    for i in range(0, len(rows), b):
        bare.write(rows[i : i + b])


# -- runs ----------------------------------------------------------------------------------


SCENARIOS = {
    "1 caller, batches of 1000": (1, 1000, guard_batches),
    "4 threads, batches of 250": (4, 250, guard_batches),
    "8 threads, single appends": (8, 1, guard_singles),
}


def rate(
    write: Callable[[Any, list[Any], int], None], target: Any, items: list[Any], batch: int, n: int
) -> float:
    """Records per second for writing `items` to `target` from `n` threads."""
    start = time.perf_counter()
    in_threads(write, target, items, batch, n)
    return len(items) / (time.perf_counter() - start)


def bench_backend(
    name: str,
    open_log: Callable[[], AuditLog],
    open_bare: Callable[[], BareSqlite | BarePostgres],
    n: int,
    rounds: int,
) -> list[tuple[str, float, float]]:
    results = []
    for scenario, (threads, batch, write) in SCENARIOS.items():
        count = n if batch > 1 else n // 4
        best_guard = best_bare = 0.0
        for _ in range(rounds):
            records = [decision(k) for k in range(count)]
            rows = [(r["id"], canonical_json(r)) for r in records]
            log = open_log()
            guard = rate(write, log, records, batch, threads)
            log.close()
            bare = open_bare()
            peer = rate(bare_batches, bare, rows, batch, threads)
            bare.close()
            best_guard, best_bare = max(best_guard, guard), max(best_bare, peer)
        results.append((f"{name}: {scenario}", best_guard, best_bare))
    return results


def report(results: list[tuple[str, float, float]], size: int) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"record: {size} bytes of canonical JSON; load average {load}; {os.cpu_count()} CPUs")
    print(f"{'scenario':48s} {'guard rec/s':>12s} {'bare rec/s':>11s} {'guard/bare':>10s}")
    for label, guard, bare in results:
        print(f"{label:48s} {guard:12,.0f} {bare:11,.0f} {guard / bare:10.2f}")
    batched = max(guard for label, guard, _ in results if "sqlite" in label and "batches" in label)
    print(
        f"best SQLite batched rate {batched:,.0f}/s vs target {TARGET:,}/s: {batched / TARGET:.2f}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer records and rounds")
    parser.add_argument("--postgres", default=os.environ.get("GUARD_TEST_POSTGRES_URL"))
    parser.add_argument("--scale", type=int, help="records in a log to measure reads of")
    parser.add_argument("--db", help="the SQLite file to build or reuse with --scale")
    parser.add_argument("--ops", default="head,verify,proof,consistency,export")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # one operation, in a child
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.db)))
        return 0
    if args.scale:
        return scale(args.scale, args.db, args.postgres, args.ops.split(","))
    n, rounds = (5_000, 1) if args.quick else (20_000, 3)
    size = len(canonical_json(decision(0)))
    with tempfile.TemporaryDirectory() as tmp:
        paths = iter(Path(tmp) / f"{k}.db" for k in range(1_000))
        results = bench_backend(
            "sqlite",
            lambda: AuditLog(SqliteStore(next(paths))),
            lambda: BareSqlite(next(paths)),
            n,
            rounds,
        )
    if args.postgres:
        results += bench_postgres(args.postgres, n, rounds)
    report(results, size)
    return 0


def bench_postgres(url: str, n: int, rounds: int) -> list[tuple[str, float, float]]:
    import psycopg

    libpq = url.replace("postgresql+psycopg://", "postgresql://", 1)
    names: list[str] = []

    def schema() -> str:
        names.append(f"guard_bench_{secrets.token_hex(4)}")
        return names[-1]

    try:
        return bench_backend(
            "postgres",
            lambda: AuditLog(PostgresStore(url, schema=schema())),
            lambda: BarePostgres(libpq, _created(libpq, schema())),
            n,
            rounds,
        )
    finally:
        with psycopg.connect(libpq, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def _created(url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    return name


# -- scale: reads of a log of millions of records -------------------------------------------

SCALE_BATCH = 10_000


def fast_decisions(start: int, count: int) -> list[dict[str, Any]]:
    """Real decision records, made from one validated template (validating each is slow)."""
    template = decision(0)
    records = []
    for n in range(start, start + count):
        record = dict(template)
        record["id"] = f"dec-{n:09d}"
        record["time"] = f"2024-05-{1 + n // 86_400 % 28:02d}T{n // 3600 % 24:02d}:" + (
            f"{n // 60 % 60:02d}:{n % 60:02d}.000000+00:00"
        )
        record["actor"] = f"user-{n % 101}"
        record["tenant"] = f"tenant-{n % 7}"
        records.append(record)
    return records


def build_log(log: AuditLog, n: int) -> float:
    """Append records until the log holds `n`; return the rate in records/s."""
    start, began = log.size, time.perf_counter()
    for first in range(start, n, SCALE_BATCH):
        log.append_many(fast_decisions(first, min(SCALE_BATCH, n - first)))
    return (n - start) / max(time.perf_counter() - began, 1e-9)


def _url(db: str) -> str:
    return db if db.startswith("postgres") else f"sqlite:///{db}"


def _rss_mb() -> float:
    """The process's resident memory now, in MB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    began = time.perf_counter()
    call()
    first = time.perf_counter() - began
    began = time.perf_counter()
    for _ in range(repeat):
        call()
    return first, (time.perf_counter() - began) / max(repeat, 1)


def measure(op: str, db: str) -> dict[str, Any]:
    """Run one operation against the log `db` in this (fresh) process and report it."""
    url = _url(db)
    key = os.environ.get("GUARD_SCALE_KEY", f"{db}.key")
    if op in ("verify", "head"):
        from typer.testing import CliRunner

        from guard.cli import app

        base = _rss_mb()
        key_option = ["--signing-key", key] if url.startswith("postgres") else []
        argv = ["audit", op, "--audit", url, *(key_option if op == "head" else [])]
        result: list[Any] = []
        first, later = _timed(lambda: result.append(CliRunner().invoke(app, argv)), 2)
        if result[0].exit_code != 0:
            raise SystemExit(f"guard {' '.join(argv)} failed: {result[0].output}")
        return {
            "op": op,
            "first_s": first,
            "later_s": later,
            "rss_mb": _rss_mb() - base,
            "peak_mb": _peak_mb(),
        }
    from fastapi.testclient import TestClient

    from guard.audit import open_audit
    from service import Settings, create_app

    app = create_app(Settings(audit=url, signing_key=key, console=False, docs=False))
    with TestClient(app) as client:
        size = app.state.guard_state.audit.size
        base = _rss_mb()
        ids = [f"dec-{n:09d}" for n in (size // 3, size - 1, 7, size // 2 + 1)]
        calls = iter(ids * 10)

        def get(path: str) -> None:
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"GET {path}: {response.status_code} {response.text[:300]}")

        if op == "proof":
            first, later = _timed(lambda: get(f"/v1/decisions/{next(calls)}/proof"), 3)
        elif op == "consistency":
            first, later = _timed(lambda: get(f"/v1/audit/consistency?from={size // 3}"), 3)
        elif op == "export":
            lines: list[int] = []

            def export() -> None:
                with client.stream("GET", "/v1/decisions/export?actor=user-5") as response:
                    lines.append(sum(1 for _ in response.iter_lines()))

            first, later = _timed(export, 1)
        else:
            raise SystemExit(f"unknown --measure {op!r}")
    with open_audit(url, signing_key_path=key, create=False) as log:  # the peer: one record
        peer = _timed(lambda: log.get(ids[0]), 20)[1]
    grown = _rss_mb() - base
    return {
        "op": op,
        "first_s": first,
        "later_s": later,
        "rss_mb": grown,
        "peak_mb": _peak_mb(),
        "peer": peer,
    }


def scale(n: int, db: str | None, postgres: str | None, ops: list[str]) -> int:
    """Build a log of `n` records (SQLite, or PostgreSQL with --postgres) and measure reads."""
    if postgres:
        target = f"{postgres}{'&' if '?' in postgres else '?'}options=-csearch_path%3Dguard_scale"
        libpq = postgres.replace("postgresql+psycopg://", "postgresql://", 1)
        import psycopg

        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute('CREATE SCHEMA IF NOT EXISTS "guard_scale"')
        db = target
        key = os.path.join(tempfile.gettempdir(), "guard_scale.key")
    else:
        db = db or os.path.join(tempfile.gettempdir(), f"guard-scale-{n}.db")
        key = f"{db}.key"
    from guard.audit import open_audit

    began = time.perf_counter()
    with open_audit(_url(db), signing_key_path=key) as log:
        opened = time.perf_counter() - began  # includes a first upgrade of an older log
        rate_built = build_log(log, n) if log.size < n else 0.0
        size = log.size
    built = f", built at {rate_built:,.0f}/s" if rate_built else ""
    print(f"log {db}: {size:,} records (opened in {opened:.1f} s{built})")
    print(
        f"{'operation':14s} {'first s':>9s} {'later s':>9s} {'RSS +MB':>8s} {'peak MB':>8s}"
        f" {'later/peer':>10s}"
    )
    for op in ops:
        child = subprocess.run(
            [sys.executable, __file__, "--measure", op, "--db", db],
            capture_output=True,
            text=True,
            env={**os.environ, "GUARD_SCALE_KEY": key},
        )
        if child.returncode != 0:
            print(f"{op:14s} failed: {child.stderr.strip()[-400:]}")
            continue
        row = json.loads(child.stdout.strip().splitlines()[-1])
        ratio = f"{row['later_s'] / row['peer']:10.0f}" if row.get("peer") else ""
        print(
            f"{op:14s} {row['first_s']:9.3f} {row['later_s']:9.4f} {row['rss_mb']:8.1f}"
            f" {row['peak_mb']:8.0f} {ratio}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
