"""Health, readiness, metrics, OpenAPI exposure, settings and the public door."""

from __future__ import annotations

import pytest

import service
from service import Settings
from service._metrics import Tracer
from service._server import loopback_only
from service._settings import SettingsError
from tests.service.conftest import pay


def test_public_names():
    assert service.__all__ == sorted(service.__all__)
    assert set(service.__all__) == {
        "Escalations",
        "KeyStore",
        "Principal",
        "ServiceState",
        "Settings",
        "app_from_env",
        "create_app",
    }


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["policies"] == 1 and ready["audit_size"] == 0


def test_readiness_fails_when_the_log_is_closed(client):
    client.app_state.audit.close()
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["error"]["code"] == "audit_unavailable"


def test_metrics_count_decisions_rules_and_latency(client):
    client.post("/v1/check", json={"action": pay(900)})
    client.post("/v1/check", json={"action": {"kind": 5}})
    text = client.get("/metrics").text
    assert 'guard_decisions_total{mode="enforce",policy="svc-test",verdict="escalate"} 1.0' in text
    assert 'guard_rule_hits_total{effect="escalate",policy="svc-test",rule="big-payment"} 1.0' in (
        text
    )
    assert "guard_decision_seconds_bucket" in text and "guard_audit_append_seconds_count" in text
    assert "guard_pii_scan_seconds_count" in text
    assert 'guard_http_errors_total{route="/v1/check",status="422"} 1.0' in text
    assert 'route="/v1/check",status="200"' in text


def test_docs_can_be_turned_off(make_client):
    c = make_client(docs=False)
    for path in ("/openapi.json", "/docs"):
        assert c.get(path).status_code == 404


def test_open_access_schema_claims_no_security(client, keyed):
    assert "securitySchemes" not in client.get("/openapi.json").json()["components"]
    schema = keyed.get("/openapi.json").json()
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    assert schema["paths"]["/v1/check"]["post"]["security"] == [{"HTTPBearer": []}]


def test_every_operation_documents_the_error_shape(client):
    schema = client.get("/openapi.json").json()
    for path, item in schema["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for op in item.values():
            for status, response in op["responses"].items():
                if status.startswith("4"):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorResponse"), (path, status)


def test_settings_from_environment():
    env = {
        "GUARD_PORT": "9001",
        "GUARD_DOCS": "false",
        "GUARD_KEYS": "/k.yaml",
        "GUARD_REQUEST_TIMEOUT": "2.5",
        "GUARD_REDIS": "",
    }
    s = Settings.from_env(env, policy="x")
    assert (s.port, s.docs, s.keys, s.request_timeout, s.redis, s.policy) == (
        9001,
        False,
        "/k.yaml",
        2.5,
        None,
        "x",
    )
    assert Settings.from_env(s.to_env()) == s


@pytest.mark.parametrize(
    "env",
    [
        pytest.param({"GUARD_PORT": "eighty"}, id="port-not-number"),
        pytest.param({"GUARD_PORT": "0"}, id="port-zero"),
        pytest.param({"GUARD_DOCS": "maybe"}, id="bool"),
        pytest.param({"GUARD_WORKERS": "-1"}, id="workers"),
    ],
)
def test_bad_settings_are_refused(env):
    with pytest.raises(SettingsError):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("host", "keys", "bound", "noted"),
    [
        pytest.param("0.0.0.0", None, "127.0.0.1", True, id="open-access-forced-to-loopback"),
        pytest.param("127.0.0.1", None, "127.0.0.1", True, id="open-access-on-loopback"),
        pytest.param("0.0.0.0", "keys.yaml", "0.0.0.0", False, id="keys-any-host"),
    ],
)
def test_without_keys_only_loopback(host, keys, bound, noted):
    settings, note = loopback_only(Settings(host=host, keys=keys, policy="x"))
    assert settings.host == bound and (note is not None) is noted


def test_tracer_is_off_without_a_provider():
    assert Tracer().enabled is False


class _FakeSpan:
    def __init__(self, name, spans):
        self.name, self.attributes = name, {}
        spans.append(self)

    def set_attribute(self, key, value):
        self.attributes[key] = value


class _FakeTracer:
    def __init__(self):
        self.spans = []

    def start_as_current_span(self, name):
        import contextlib

        @contextlib.contextmanager
        def span():
            yield _FakeSpan(name, self.spans)

        return span()


def test_each_check_gets_a_span_when_tracing_is_on(client):
    fake = _FakeTracer()
    client.app.state.tracer._tracer = fake
    d = client.post("/v1/check", json={"action": pay(900)}).json()
    (span,) = fake.spans
    assert span.name == "guard.check"
    assert span.attributes == {
        "guard.decision_id": d["id"],
        "guard.verdict": "escalate",
        "guard.policy": "svc-test",
        "guard.policy_digest": d["policy_digest"],
    }


@pytest.mark.parametrize("path", ["inline", "threaded"])
def test_a_slow_request_times_out_with_504(make_client, monkeypatch, path):
    import asyncio
    import time as _time

    c = make_client(request_timeout=0.2)
    guard = c.app_state.guard
    if path == "threaded":  # a pack with PII detection is decided in a worker thread
        original = guard.check_batch
        monkeypatch.setattr(guard, "decides_inline", lambda policy=None: False)

        def slow(*args, **kwargs):
            _time.sleep(0.6)
            return original(*args, **kwargs)

        monkeypatch.setattr(guard, "check_batch", slow)
    else:  # a rule-only pack is decided on the loop, then waits for its audit commit
        original_async = guard.acheck_batch

        async def slow_commit(*args, **kwargs):
            await asyncio.sleep(0.6)
            return await original_async(*args, **kwargs)

        monkeypatch.setattr(guard, "acheck_batch", slow_commit)
    r = c.post("/v1/check", json={"action": pay(1)})
    assert r.status_code == 504 and r.json()["error"]["code"] == "timeout"


def test_metrics_of_several_workers_are_merged(tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR (set by `guard serve --workers N`), any worker's
    /metrics shows what every worker counted."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(root)}
    count = (
        "from service._metrics import Metrics\n"
        "Metrics().observe_request('POST', '/v1/check', 200, 0.001)"
    )
    for _ in range(2):  # two worker processes, one request each
        subprocess.run([sys.executable, "-c", count], env=env, check=True, cwd=root)
    render = (
        "import sys\nfrom service._metrics import Metrics\n"
        "sys.stdout.buffer.write(Metrics().render())"
    )
    out = subprocess.run(
        [sys.executable, "-c", render], env=env, check=True, cwd=root, capture_output=True
    ).stdout.decode()
    line = 'guard_http_request_seconds_count{method="POST",route="/v1/check",status="200"} 2.0'
    assert line in out


def test_a_bad_signing_key_refuses_to_start(settings, tmp_path):
    from guard import GuardError
    from service import ServiceState

    key = tmp_path / "bad.key"
    key.write_text("not a key")
    with pytest.raises(GuardError, match="signing key"):
        ServiceState.build(settings.with_(signing_key=str(key)))
