"""Sidecar throughput: /v1/check beside a bare FastAPI endpoint, same server, same run.

    .venv/bin/python benchmarks/bench_service.py [--seconds 8] [--conns 16]

Each server is a separate uvicorn process (uvloop, httptools, one worker, the sidecar's own
settings); the load comes from another process on loopback, over keep-alive connections,
bounded in request count and time. It prints requests/s, p50 and p99 for:

  bare      a FastAPI `async def` endpoint returning a JSON body of the check's size
  rules     /v1/check on a rule-only pack (benchmarks/rules/bench20.yaml, the 20-rule pack
            of bench_rules.py; the shipped packs all scan for PII), SQLite audit log
  pii       /v1/check on a pack with PII detection (marketplace-agent), SQLite audit log

and the ratio to bare (target >= 0.70). Then the audit append rate, batched, on SQLite and
on PostgreSQL when GUARD_TEST_POSTGRES_URL is set and the store is installed (target >= 20k/s).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RULES_PACK = ROOT / "benchmarks" / "rules" / "bench20.yaml"
RULES_BODY = {
    "policy": "bench20",
    "action": {
        "kind": "send_message",
        "actor": "u1",
        "tenant": "t1",
        "params": {"to": "u2", "body": "is the item still available?", "recipient_count": 1},
    },
    "context": {
        "home_tenant": "t1",
        "role": "agent",
        "has_contract": True,
        "verified": True,
        "account_age_days": 400,
        "risk_score": 10,
        "daily_spend": 0,
        "flags": [],
    },
}
PII_BODY = {
    "policy": "marketplace-agent",
    "action": {
        "kind": "send_message",
        "actor": "bench",
        "params": {
            "to": "client-1",
            "message": "Happy to help with the remodel; call me on "
            "416-555-0199 or mail jo.smith@example.com.",
        },
    },
    "context": {"has_contract": False, "role": "agent"},
}


# -- servers (child processes) -------------------------------------------------------------


def serve(kind: str, port: int, audit: str, size: int, policy: str | None) -> None:
    """Run one server in this process until killed."""
    import uvicorn

    from service._server import uvicorn_options
    from service._settings import Settings

    settings = Settings(audit=audit, port=port, rate_limit="100000000/minute", log_level="warning")
    if policy:
        settings = dataclasses.replace(settings, policy=policy)
    options = uvicorn_options(settings)
    if kind == "bare":
        app: Any = _bare_app(size)
    else:
        from service import create_app

        app = create_app(settings)
    uvicorn.run(app, **options)  # type: ignore[arg-type]


def _bare_app(size: int) -> Any:
    from fastapi import FastAPI

    app = FastAPI()
    payload = {"id": "0" * 32, "padding": "x" * max(0, size - 60)}

    @app.post("/v1/check")
    async def check() -> dict[str, Any]:
        return payload

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    return app


class Server:
    """A server child process on a free loopback port."""

    def __init__(self, kind: str, audit: str, size: int, policy: str = "") -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                kind,
                "--port",
                str(self.port),
                "--audit",
                audit,
                "--size",
                str(size),
                "--policy",
                policy,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait()

    def _wait(self) -> None:
        import httpx

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz").status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


# -- load generator (child process) --------------------------------------------------------


async def _connection(
    port: int,
    request: bytes,
    deadline: float,
    budget: list[int],
    latencies: list[float],
    errors: list[int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            started = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors[0] += 1
    finally:
        writer.close()


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


def load(port: int, body: bytes, conns: int, count: int, seconds: float) -> dict[str, Any]:
    """Send up to `count` requests for at most `seconds` over `conns` connections."""
    request = (
        b"POST /v1/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    latencies: list[float] = []
    errors = [0]

    async def run() -> float:
        # warm-up, not measured
        await asyncio.gather(
            *[_connection(port, request, time.perf_counter() + 1, [50], [], [0]) for _ in range(2)]
        )
        budget = [count]
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *[_connection(port, request, deadline, budget, latencies, errors) for _ in range(conns)]
        )
        return time.perf_counter() - started

    try:
        import uvloop

        elapsed = uvloop.run(run())
    except ImportError:
        elapsed = asyncio.run(run())
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1e3,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1e3,
        "errors": errors[0],
    }


def run_load(port: int, body: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--load",
            str(port),
            "--body",
            json.dumps(body),
            "--conns",
            str(args.conns),
            "--count",
            str(args.count),
            "--seconds",
            str(args.seconds),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


# -- audit append rate ---------------------------------------------------------------------


def _postgres_append_rate(url: str) -> dict[str, float]:
    """`append_rate` on PostgreSQL, in a scratch schema dropped afterwards (the database
    is the test suite's: a benchmark must not leave it holding millions of records)."""
    import psycopg

    from guard.audit import AuditLog
    from guard.audit._postgres import PostgresStore

    libpq = url.replace("postgresql+psycopg://", "postgresql://", 1)
    name = f"guard_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        return append_rate(url, log=AuditLog(PostgresStore(url, schema=name)))
    finally:
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def append_rate(
    url: str, records: int = 50_000, batch: int = 1_000, *, log: Any = None
) -> dict[str, float]:
    """Records/s for append_many batches, and for single appends from 32 threads."""
    from guard.audit import open_audit

    sample = _sample_record()
    run = uuid.uuid4().hex[:8]  # a shared database may hold earlier runs' ids
    with log if log is not None else open_audit(url) as log:
        started = time.perf_counter()
        for start in range(0, records, batch):
            log.append_many([{**sample, "id": f"{run}-b{start + i}"} for i in range(batch)])
        batched = records / (time.perf_counter() - started)
        singles = _threaded(log, {**sample, "run": run}, threads=32, each=300)
    return {"batched": batched, "threaded_single": singles}


def _threaded(log: Any, sample: dict[str, Any], threads: int, each: int) -> float:
    def work(t: int) -> None:
        for i in range(each):
            log.append({**sample, "id": f"{sample['run']}-t{t}-{i}"})

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return threads * each / (time.perf_counter() - started)


def _sample_record() -> dict[str, Any]:
    from guard import Guard

    with Guard.from_policy(str(RULES_PACK), audit="memory://") as guard:
        decision = guard.check(RULES_BODY["action"], RULES_BODY["context"])
        record: dict[str, Any] = guard.audit.get(decision.id).record  # type: ignore[union-attr]
    return record


# -- main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve")
    parser.add_argument("--load", type=int)
    parser.add_argument("--body")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--audit", default="memory://")
    parser.add_argument("--size", type=int, default=1500)
    parser.add_argument("--policy", default="")
    parser.add_argument("--conns", type=int, default=16)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.audit, args.size, args.policy)
        return
    if args.load:
        print(json.dumps(load(args.load, args.body.encode(), args.conns, args.count, args.seconds)))
        return
    report(args)


def report(args: argparse.Namespace) -> None:
    import httpx

    tmp = Path(tempfile.mkdtemp(prefix="guard-bench-"))
    results: dict[str, dict[str, Any]] = {}
    sizes: dict[str, int] = {}
    for name, body in (("rules", RULES_BODY), ("pii", PII_BODY)):
        policy = str(RULES_PACK) if name == "rules" else ""
        server = Server("guard", f"sqlite:///{tmp / f'{name}.db'}", 0, policy)
        try:
            sizes[name] = len(
                httpx.post(f"http://127.0.0.1:{server.port}/v1/check", json=body).content
            )
            results[name] = run_load(server.port, body, args)
        finally:
            server.stop()
        bare = Server("bare", "memory://", sizes[name])
        try:
            results[f"bare-{name}"] = run_load(bare.port, body, args)
        finally:
            bare.stop()
    print(f"{'endpoint':<12}{'bytes':>7}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}")
    for name in ("rules", "pii"):
        bare_rps = results[f"bare-{name}"]["rps"]
        for key in (f"bare-{name}", name):
            r = results[key]
            ratio = r["rps"] / bare_rps
            print(
                f"{key:<12}{sizes[name]:>7}{r['rps']:>10.0f}{r['p50_ms']:>9.2f}"
                f"{r['p99_ms']:>9.2f}{ratio:>8.2f}"
                + (f"  errors {r['errors']}" if r["errors"] else "")
            )
    print("target: ratio >= 0.70 of the bare endpoint's req/s")
    print()
    rates = {"sqlite": append_rate(f"sqlite:///{tmp / 'append.db'}")}
    pg = os.environ.get("GUARD_TEST_POSTGRES_URL")
    if pg:
        try:
            rates["postgresql"] = _postgres_append_rate(pg)
        except Exception as exc:  # the store may not exist yet: say so, measure the rest
            print(f"postgresql: skipped ({type(exc).__name__}: {exc})")
    for store, r in rates.items():
        print(
            f"audit append {store:<11} batched {r['batched']:>9,.0f} records/s   "
            f"32 threads, single appends {r['threaded_single']:>8,.0f} records/s"
        )
    print("target: >= 20,000 records/s batched")


if __name__ == "__main__":
    main()
