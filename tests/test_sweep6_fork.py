"""A fork while another thread holds one of the PII detection locks: the child does not hang.
An AuditLog used directly in a forked child refuses with an AuditError naming both pids."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from guard import AuditError
from guard.audit import AuditLog
from guard.audit._store import MemoryStore
from guard.detect import PiiSettings, PresidioDetector, _hashing, _nlp
from guard.detect import _engine as detect_engine

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

EMAIL = "write to jo@example.com today"


@contextmanager
def _held(get_lock: Callable[[], Any]) -> Iterator[None]:
    """The lock held by another thread (as a busy parent's worker holds it) until the end."""
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        with get_lock():
            taken.set()
            done.wait()

    thread = threading.Thread(target=hold)
    thread.start()
    taken.wait()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _in_child(body: Callable[[], str]) -> tuple[int, str]:
    """Run `body` in a forked child and return its exit code (0: it returned, 1: it raised)
    and what it reported. The child is killed after 10 s, so a hang fails the test; the
    child is always reaped."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            signal.alarm(10)
            try:
                out, code = body(), 0
            except BaseException as exc:  # noqa: BLE001 - reported to the parent
                out = f"{type(exc).__name__}: {exc}"
            os.write(write, out.encode())
        finally:
            os._exit(code)
    os.close(write)
    try:
        chunks = []
        while chunk := os.read(read, 4096):
            chunks.append(chunk)
    finally:
        os.close(read)
        _, status = os.waitpid(pid, 0)
    assert not os.WIFSIGNALED(status), "the child hung and was killed"
    return os.WEXITSTATUS(status), b"".join(chunks).decode()


@pytest.fixture(scope="module")
def detector() -> PresidioDetector:
    made = PresidioDetector()
    assert _found(made) == "EMAIL_ADDRESS"  # built and cached in the parent
    return made


def _found(detector: PresidioDetector) -> str:
    spans = detector.detect([EMAIL], ["EMAIL_ADDRESS"])[0]
    return " ".join(s.entity_type for s in spans)


@pytest.mark.parametrize(
    "lock",
    [
        pytest.param(lambda d: d._build_lock, id="build-lock"),
        pytest.param(lambda d: d._cache_lock, id="cache-lock"),
    ],
)
def test_a_child_forked_while_a_detector_was_busy_detects(
    detector: PresidioDetector, lock: Callable[[PresidioDetector], Any]
) -> None:
    with _held(lambda: lock(detector)):
        assert _in_child(lambda: _found(detector)) == (0, "EMAIL_ADDRESS")
    assert _found(detector) == "EMAIL_ADDRESS"  # the parent's detector goes on


def test_a_child_forked_while_detectors_were_being_made_gets_one() -> None:
    settings = PiiSettings(entities=["EMAIL_ADDRESS"], fields=["params.text"])
    parent = detect_engine.detector_for(settings)
    with _held(lambda: detect_engine._detectors_lock):
        code, out = _in_child(lambda: _found(detect_engine.detector_for(settings)))
    assert (code, out) == (0, "EMAIL_ADDRESS")
    assert detect_engine.detector_for(settings) is parent


def test_a_child_forked_while_the_process_key_was_made_hashes_as_the_parent() -> None:
    key = _hashing._random_process_key()
    with _held(lambda: _hashing._lock):
        assert _in_child(lambda: _hashing._random_process_key().hex()) == (0, key.hex())


def test_a_child_forked_while_a_model_was_loading_loads() -> None:
    with _held(lambda: _nlp._lock):
        code, out = _in_child(lambda: str(_nlp.load_ner("no_such_spacy_model_sweep6")))
    assert code == 0
    assert "'no_such_spacy_model_sweep6' is not installed" in out


class _Engine:
    def process_batch(self, texts: list[str], language: str, batch_size: int) -> Any:
        return [(t, None) for t in texts]


class _Recognizer:
    def analyze(self, text: str, entities: list[str], artifacts: Any) -> list[Any]:
        return [f"{len(text)} {','.join(entities)}"]


def test_a_child_forked_while_a_ner_model_ran_runs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _nlp.NerModel("fake", "1", ("ner",), _Engine(), _Recognizer(), threading.Lock())
    monkeypatch.setitem(_nlp._loaded, "fake_sweep6", model)
    with _held(lambda: model.lock):
        code, out = _in_child(lambda: repr(list(model.analyze(["abc"], ["PERSON"]))))
    assert (code, out) == (0, "[['3 PERSON']]")
    assert list(model.analyze(["ab"], ["PERSON"])) == [["2 PERSON"]]


@pytest.mark.parametrize(
    "used_before", [pytest.param(True, id="writer-running"), pytest.param(False, id="fresh")]
)
def test_an_audit_log_used_in_a_forked_child_refuses_naming_both_processes(
    used_before: bool,
) -> None:
    log = AuditLog(MemoryStore())
    if used_before:  # the writer thread exists: the child's append waited for it for ever
        log.append({"n": 0})

    def child() -> str:
        try:
            log.append({"n": 1})
        except AuditError as exc:
            log.close()  # nothing of the parent's to finish; does not hang
            return str(exc)
        return "appended"

    parent = os.getpid()
    code, out = _in_child(child)
    assert code == 0
    assert f"opened in process {parent} and is used in process " in out
    assert "forked from it" in out and "nothing was recorded" in out
    child_pid = int(out.split("used in process ")[1].split(",")[0])
    assert child_pid != parent
    log.append({"n": 2})  # the parent's log goes on
    assert log.size == (2 if used_before else 1)
    log.close()


def test_an_audit_log_in_its_own_process_appends() -> None:
    with AuditLog(MemoryStore()) as log:
        assert [r.index for r in log.append_many([{"n": 0}, {"n": 1}])] == [0, 1]
