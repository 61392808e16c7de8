"""Prometheus metrics (one registry per app) and optional OpenTelemetry spans per decision."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST as PROMETHEUS_CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from guard._models import Decision
from service._settings import SettingsError

__all__ = [
    "MULTIPROC_ENV",
    "PROMETHEUS_CONTENT_TYPE",
    "TRACE_EXPORTERS",
    "Metrics",
    "check_multiproc_dir",
    "Tracer",
    "configure_tracing",
    "trace_exporters",
]

#: prometheus_client's multiprocess mode: each process keeps its values in files here.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

_FAST = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
_HTTP = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


def check_multiproc_dir() -> None:
    """Refuse a PROMETHEUS_MULTIPROC_DIR that is not a folder this process can write (a
    SettingsError): prometheus_client would fail on the first metric, and under
    `guard serve --workers N` each worker would die with a traceback and be restarted."""
    folder = os.environ.get(MULTIPROC_ENV)
    if not folder:
        return
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
        what = "is not a folder" if not os.path.isdir(folder) else "cannot be written"
        raise SettingsError(
            f"{MULTIPROC_ENV} names {folder!r}, which {what}; create it, or unset it "
            "(guard serve --workers N makes one of its own)"
        )


class Metrics:
    """The sidecar's counters and histograms; per app, so tests can build many apps."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.decisions = Counter(
            "guard_decisions",
            "Decisions by pack, verdict and mode",
            ["policy", "verdict", "mode"],
            registry=r,
        )
        self.rule_hits = Counter(
            "guard_rule_hits",
            "Rule hits by pack, rule and effect",
            ["policy", "rule", "effect"],
            registry=r,
        )
        self.check_seconds = Histogram(
            "guard_decision_seconds",
            "Engine time per decision",
            ["endpoint"],
            buckets=_FAST,
            registry=r,
        )
        self.pii_seconds = Histogram(
            "guard_pii_scan_seconds", "PII scan time per decision", buckets=_FAST, registry=r
        )
        self.audit_seconds = Histogram(
            "guard_audit_append_seconds",
            "Audit append time per decision",
            buckets=_FAST,
            registry=r,
        )
        self.http_seconds = Histogram(
            "guard_http_request_seconds",
            "HTTP latency by route",
            ["method", "route", "status"],
            buckets=_HTTP,
            registry=r,
        )
        self.errors = Counter(
            "guard_http_errors",
            "Error responses by route and status",
            ["route", "status"],
            registry=r,
        )

        # Labelled children, looked up once: `labels()` validates and locks on every call.
        self._children: dict[tuple[Any, ...], Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one HTTP request (route templates only, so ids stay out of labels)."""
        self._child(self.http_seconds, method, route, str(status)).observe(seconds)
        if status >= 400:
            self._child(self.errors, route, str(status)).inc()

    def observe_decision(self, decision: Decision, endpoint: str, seconds: float) -> None:
        """Record one decision: verdict, rule hits, engine, PII and audit times."""
        policy = decision.policy
        self._child(self.decisions, policy, str(decision.verdict), decision.mode).inc()
        for hit in decision.hits:
            self._child(self.rule_hits, policy, hit.rule_id, str(hit.effect)).inc()
        self._child(self.check_seconds, endpoint).observe(seconds)
        timings = decision.timings_us
        if "pii" in timings:
            self.pii_seconds.observe(timings["pii"] / 1e6)
        if "audit" in timings:
            self.audit_seconds.observe(timings["audit"] / 1e6)

    def render(self) -> bytes:
        """The Prometheus text exposition: of every worker process when they share a
        `PROMETHEUS_MULTIPROC_DIR` (as `guard serve --workers N` sets up), else this one's."""
        if os.environ.get(MULTIPROC_ENV):
            from prometheus_client import multiprocess

            merged = CollectorRegistry()
            multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
            return generate_latest(merged)
        return generate_latest(self.registry)


class Tracer:
    """One span per decision when OpenTelemetry is installed and a tracer provider is set
    (by `configure_tracing` from OTEL_TRACES_EXPORTER, by `opentelemetry-instrument`, or by
    the embedding program); `provider` gives one directly instead of the global one.

    Without `opentelemetry-api`, or with only the default no-op provider, this does nothing.
    """

    def __init__(self, provider: Any = None) -> None:
        self._tracer: Any = None
        if provider is None:
            try:
                from opentelemetry import trace
            except ImportError:
                return
            provider = trace.get_tracer_provider()
            if _is_default(provider):
                return
        self._tracer = provider.get_tracer("guard.service")

    @property
    def enabled(self) -> bool:
        """True when spans are exported."""
        return self._tracer is not None

    def span(self, name: str) -> contextlib.AbstractContextManager[Any]:
        """A span named `name`, or None when tracing is off (a no-op context, cheaply)."""
        if self._tracer is None:
            return contextlib.nullcontext()
        return self._tracer.start_as_current_span(name)  # type: ignore[no-any-return]

    @staticmethod
    def annotate(span: Any, decision: Decision) -> None:
        """Attach the decision id, verdict and policy digest to a span."""
        if span is None:
            return
        span.set_attribute("guard.decision_id", decision.id)
        span.set_attribute("guard.verdict", decision.verdict.value)
        span.set_attribute("guard.policy", decision.policy)
        span.set_attribute("guard.policy_digest", decision.policy_digest)

    @staticmethod
    def annotate_batch(span: Any, decisions: Sequence[Decision]) -> None:
        """A batch's span: its decisions' ids and verdicts, in order, and their policy."""
        if span is None or not decisions:
            return
        span.set_attribute("guard.decision_ids", [d.id for d in decisions])
        span.set_attribute("guard.verdicts", [d.verdict.value for d in decisions])
        span.set_attribute("guard.policy", decisions[0].policy)
        span.set_attribute("guard.policy_digest", decisions[0].policy_digest)


def _is_default(provider: Any) -> bool:
    return type(provider).__name__ in ("ProxyTracerProvider", "NoOpTracerProvider")


#: OTEL_TRACES_EXPORTER's values `configure_tracing` sets up (OpenTelemetry's own names).
TRACE_EXPORTERS = ("otlp", "console", "none")


def trace_exporters() -> list[str]:
    """The exporters OTEL_TRACES_EXPORTER names, checked without setting anything up: an
    unknown one, or any with opentelemetry-sdk not installed, is a SettingsError."""
    names = [n.strip() for n in os.environ.get("OTEL_TRACES_EXPORTER", "").split(",")]
    names = [n for n in names if n and n != "none"]
    unknown = sorted(set(names) - set(TRACE_EXPORTERS))
    if unknown:
        raise SettingsError(
            f"OTEL_TRACES_EXPORTER names {', '.join(map(repr, unknown))}; the sidecar "
            f"exports spans with {', '.join(TRACE_EXPORTERS)} (a comma-separated list)"
        )
    if names:
        try:
            import opentelemetry.sdk.trace  # noqa: F401
        except ImportError:
            raise SettingsError(
                "OTEL_TRACES_EXPORTER is set but opentelemetry-sdk is not installed "
                "(pip install 'agent-guard[service]')"
            ) from None
    return names


def configure_tracing() -> bool:
    """Set up OpenTelemetry's SDK from its standard variables, once per process: spans go to
    each exporter OTEL_TRACES_EXPORTER names (`otlp`: OTLP over HTTP, to
    OTEL_EXPORTER_OTLP_ENDPOINT or http://localhost:4318; `console`: JSON on stdout),
    as service OTEL_SERVICE_NAME (default `guard-sidecar`). Unset or `none`: no tracing.
    A tracer provider already set (by `opentelemetry-instrument`, say) is left in place.
    True when this call set one up; an unknown exporter is a SettingsError."""
    names = trace_exporters()
    if not names:
        return False
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    if not _is_default(trace.get_tracer_provider()):
        return False
    service = os.environ.get("OTEL_SERVICE_NAME") or "guard-sidecar"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    for name in dict.fromkeys(names):
        if name == "console":
            exporter: Any = ConsoleSpanExporter()
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return True
