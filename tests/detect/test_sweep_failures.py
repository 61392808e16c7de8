"""A detector that fails, whatever it raises, makes the scan incomplete and quotes nothing."""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence

import pytest

from guard import Guard, Verdict
from guard.detect import DetectionError, PiiScanner, PiiSettings, Span
from tests.detect.conftest import KEY, message

EMAIL = "jo.smith@example.com"
TEXT = f"write to {EMAIL} today"


class Raising:
    """A detector that raises `exc`, with the text it was given in the message."""

    name = "raising"

    def __init__(self, exc: type[Exception]) -> None:
        self.exc = exc

    def detect(self, texts: Sequence[str], entities: Sequence[str]) -> list[list[Span]]:
        raise self.exc(f"cannot read {texts[0]!r}: {texts[0]}")


EXCEPTIONS = [
    pytest.param(KeyError, id="KeyError"),
    pytest.param(IndexError, id="IndexError"),
    pytest.param(AttributeError, id="AttributeError"),
    pytest.param(ZeroDivisionError, id="ZeroDivisionError"),
    pytest.param(OSError, id="OSError"),
    pytest.param(ValueError, id="ValueError"),
    pytest.param(DetectionError, id="DetectionError"),
]


@pytest.mark.parametrize("exc", EXCEPTIONS)
def test_any_detector_failure_is_a_field_error_that_quotes_no_text(
    exc: type[Exception],
) -> None:
    settings = PiiSettings(entities=["EMAIL_ADDRESS"], fields=["params.message"])
    scanner = PiiScanner(settings, detector=Raising(exc), hash_key=KEY)
    scan = scanner.scan(message(TEXT))
    assert scan.findings == ()
    assert list(scan.report.field_errors) == ["params.message"]
    error = scan.report.field_errors["params.message"]
    assert EMAIL not in error and "example" not in error
    assert scanner.redact(message(TEXT), scan)["params"]["message"] == "[REDACTED]"


@pytest.mark.parametrize("exc", EXCEPTIONS)
def test_a_failing_detector_denies_and_the_record_holds_no_raw_text(
    exc: type[Exception],
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = Guard.from_policy("marketplace-agent", audit="memory://", pii_detector=Raising(exc))
    action = {"kind": "send_message", "actor": "u1", "params": {"to": "u2", "message": TEXT}}
    d = g.check(action, context={})
    assert d.verdict is Verdict.DENY
    assert g.audit is not None
    stored = json.dumps([r.record for r in g.audit.iter_records()])
    assert EMAIL not in stored and "example.com" not in stored
