"""A RemoteError raised in a worker process reaches the parent whole."""

from __future__ import annotations

import pickle

from guard.client import RemoteError


def test_a_remote_error_survives_pickling() -> None:
    error = RemoteError(503, "sidecar_unreachable", "connection refused", {"url": "x"})
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is RemoteError
    assert (again.status, again.code, again.details, str(again)) == (
        503,
        "sidecar_unreachable",
        {"url": "x"},
        "503 sidecar_unreachable: connection refused",
    )
