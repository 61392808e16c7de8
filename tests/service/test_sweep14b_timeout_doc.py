"""Sweep 14b: the 504 the sidecar answers when a request outlasts request_timeout is in its
OpenAPI document, on every route the timeout applies to.

Before: LimitsMiddleware answered {"error": {"code": "timeout"}} with 504 on any route but
the long-polls (/wait) and the exports (/export), yet no operation declared 504, so a
generated client treated it as an undocumented status.
"""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_every_route_the_timeout_applies_to_declares_504(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    timed, untimed = [], []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            (untimed if path.endswith(("/wait", "/export")) else timed).append(
                (method, path, operation["responses"])
            )
    assert timed and untimed
    missing = [(m, p) for m, p, responses in timed if "504" not in responses]
    assert not missing, missing
    for _, _, responses in timed:
        content = responses["504"]["content"]["application/json"]["schema"]
        assert content == {"$ref": "#/components/schemas/ErrorResponse"}
        assert "request_timeout" in responses["504"]["description"]
    # The long-polls and the exports bound themselves: no 504 to declare there.
    assert not [(m, p) for m, p, responses in untimed if "504" in responses]
