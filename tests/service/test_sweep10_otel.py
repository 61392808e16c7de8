"""OpenTelemetry: one span per decision carrying its id, verdict, policy and digest (and
never the action's text), from an SDK provider the embedding program gives, or set up by
`guard serve` itself from OpenTelemetry's standard OTEL_TRACES_EXPORTER variable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.testclient import TestClient

from service import create_app
from service._metrics import Tracer, configure_tracing
from service._settings import SettingsError
from tests.service._server import Sidecar
from tests.service.conftest import pay

EMAIL = "jane.doe@example.com"


@pytest.fixture
def traced(client: TestClient) -> tuple[TestClient, InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    client.app.state.tracer = Tracer(provider)  # type: ignore[attr-defined]
    return client, spans


def _decision_spans(spans: InMemorySpanExporter) -> list[Any]:
    return [s for s in spans.get_finished_spans() if s.name.startswith("guard.")]


def test_a_check_gets_one_span_with_its_decision(
    traced: tuple[TestClient, InMemorySpanExporter],
) -> None:
    client, spans = traced
    body = client.post("/v1/check", json={"action": pay(700, note=EMAIL)}).json()
    (span,) = _decision_spans(spans)
    assert span.name == "guard.check"
    assert dict(span.attributes) == {
        "guard.decision_id": body["id"],
        "guard.verdict": "escalate",
        "guard.policy": "svc-test",
        "guard.policy_digest": body["policy_digest"],
    }
    assert EMAIL not in json.dumps([dict(s.attributes or {}) for s in spans.get_finished_spans()])


def test_a_batch_gets_one_span_naming_its_decisions_in_order(
    traced: tuple[TestClient, InMemorySpanExporter],
) -> None:
    client, spans = traced
    answer = client.post("/v1/check/batch", json={"actions": [pay(1), pay(700), pay(20000)]})
    items = answer.json()["items"]
    (span,) = _decision_spans(spans)
    assert span.name == "guard.check_batch"
    assert list(span.attributes["guard.decision_ids"]) == [d["id"] for d in items]
    assert list(span.attributes["guard.verdicts"]) == ["allow", "escalate", "deny"]
    assert span.attributes["guard.policy_digest"] == items[0]["policy_digest"]


def test_no_provider_means_no_spans_and_a_bad_exporter_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    assert configure_tracing() is False and not Tracer().enabled
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp,jaeger")
    with pytest.raises(SettingsError, match="'jaeger'.*otlp, console, none"):
        create_app(settings)


def test_guard_serve_exports_spans_named_by_otel_traces_exporter(
    tmp_path: Path, pack_file: Path
) -> None:
    log = tmp_path / "serve.log"
    env = {
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_SERVICE_NAME": "guard-test",
        "OTEL_BSP_SCHEDULE_DELAY": "50",
    }
    audit = f"sqlite:///{tmp_path / 'a.db'}"
    server = Sidecar("--policy", str(pack_file), "--audit", audit, env=env, log=log)
    try:
        server.wait_ready()
        decision = httpx.post(f"{server.url}/v1/check", json={"action": pay(20000)}).json()
    finally:
        server.stop()  # the SDK flushes its batch at exit
    text = log.read_text()
    assert f'"guard.decision_id": "{decision["id"]}"' in text
    assert '"guard.verdict": "deny"' in text and '"service.name": "guard-test"' in text


def test_a_bad_exporter_is_a_one_line_startup_error(tmp_path: Path, pack_file: Path) -> None:
    log = tmp_path / "serve.log"
    server = Sidecar("--policy", str(pack_file), env={"OTEL_TRACES_EXPORTER": "zipkin"}, log=log)
    with pytest.raises(RuntimeError, match="exited"):
        server.wait_ready()
    server.stop()
    text = log.read_text()
    assert "OTEL_TRACES_EXPORTER names 'zipkin'" in text and "Traceback" not in text
