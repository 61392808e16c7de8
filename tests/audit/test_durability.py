from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from guard.audit import open_audit

ROOT = Path(__file__).resolve().parents[2]

# Appends forever from four threads (single appends and batches), printing each id only
# after append() / append_many() returned, i.e. after the commit was acknowledged.
CHILD = """
import sys, threading
from guard.audit import open_audit

log = open_audit(sys.argv[1])
out = threading.Lock()

def ack(ids):
    with out:
        sys.stdout.write("".join(f"{i}\\n" for i in ids))
        sys.stdout.flush()

def single(worker):
    n = 0
    while True:
        ack([log.append({"id": f"s{worker}-{n}", "n": n}).id])
        n += 1

def batches():
    n = 0
    while True:
        ack([r.id for r in log.append_many([{"id": f"b{n}-{k}"} for k in range(25)])])
        n += 1

for worker in range(3):
    threading.Thread(target=single, args=(worker,), daemon=True).start()
batches()
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_acknowledged_records_survive_kill_9(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/audit.db"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert child.stdout is not None
    acknowledged: list[str] = []
    deadline = time.monotonic() + 60
    while len(acknowledged) < 2000 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        acknowledged.append(line.strip())
    child.send_signal(signal.SIGKILL)
    rest, errors = child.communicate(timeout=30)
    acknowledged += rest.split()  # printed before the kill, so also acknowledged
    assert child.returncode == -signal.SIGKILL, errors
    assert len(acknowledged) >= 500, errors

    with open_audit(url) as log:
        report = log.verify()
        assert report.size >= len(acknowledged)
        for record_id in acknowledged:
            assert log.get(record_id).id == record_id
        log.append({"id": "after-restart"})  # the log keeps going
        assert log.verify().size == report.size + 1
