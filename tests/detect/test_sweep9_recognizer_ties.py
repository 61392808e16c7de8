"""Two recognizers finding the same span with the same score: the first one is reported.

`remove_contained` deduplicated spans through a `set`, whose order follows the hash of
the recognizer's name, which changes from one process to the next: `+49 1512 3456737`
found alike by GuardPhoneRecognizer and PhoneRunRecognizer was reported (and audited) as
one or the other at random. Ties now keep the order the detector gave.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from guard.detect._protocol import Span
from guard.detect._scanner import remove_contained

NAMES = [f"Recognizer{i}" for i in range(40)]


def test_a_tie_keeps_the_first_recognizer_whatever_the_names_hash_to() -> None:
    for name in NAMES:
        first = Span("PHONE_NUMBER", 3, 19, 0.7, "GuardPhoneRecognizer")
        kept = remove_contained([first, Span("PHONE_NUMBER", 3, 19, 0.7, name)])
        assert kept == [first], name


def test_the_same_span_found_twice_is_reported_alike_in_every_process() -> None:
    code = (
        "from tests.detect.conftest import make_scanner, message\n"
        "text = 'Kundennummer +44 800 123 4567.+49 1512 3456737 5pm'\n"
        "scan = make_scanner().scan(message(text))\n"
        "print([(f.start, f.end, f.recognizer) for f in scan.findings])\n"
    )
    root = Path(__file__).resolve().parents[2]
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(6)
    }
    assert len(outputs) == 1, outputs
    assert "GuardPhoneRecognizer" in outputs.pop()
