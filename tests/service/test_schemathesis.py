"""Property-based API testing: every operation, all schemathesis checks, positive and negative data.

Runs in process against the ASGI app (no network), with a bounded number of examples.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from pathlib import Path

import pytest

from guard.policy import shipped_dir
from service import KeyStore, ServiceState, Settings, create_app
from service._auth import new_key

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import schemathesis
    from schemathesis.config import SchemathesisConfig

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),  # starlette's httpx2 notice
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

_TMP = Path(tempfile.mkdtemp(prefix="guard-st-"))
_RAW, _ENTRY = new_key("schemathesis-admin", ["admin"], None)
_STATE = ServiceState.build(
    Settings(
        policy=str(shipped_dir() / "marketplace-agent.yaml"),
        audit=f"sqlite:///{_TMP / 'audit.db'}",
        rate_limit="1000000/minute",
        long_poll_max=0.5,
        poll_interval=0.05,
    ),
    keys=KeyStore([_ENTRY]),
)
_APP = create_app(state=_STATE)
# Valid per the schema, refused with 422 for reasons JSON Schema cannot state: a tool call's
# `arguments` text must hold a JSON object, integers must fit in 64 bits, `from` <= `to`.
_SEMANTIC_422 = ["2xx", "401", "403", "404", "409", "422", "429"]
_CONFIG = SchemathesisConfig.from_dict(
    {
        # The API speaks UTF-8 JSON: lone surrogates are not text the guard can hash or scan.
        "generation": {"max-examples": 25, "mode": "all", "codec": "utf-8"},
        "headers": {"Authorization": f"Bearer {_RAW}"},
        # 413 (body or text too large) is a rejection too.
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [
                    "400",
                    "401",
                    "403",
                    "404",
                    "405",
                    "406",
                    "409",
                    "413",
                    "415",
                    "422",
                    "428",
                    "429",
                ]
            }
        },
        "operations": [
            {
                "include-path-regex": path,
                "checks": {"positive_data_acceptance": {"expected-statuses": _SEMANTIC_422}},
            }
            for path in (
                "^/v1/(check|check/batch|shield|rank)$",
                "^/v1/audit/consistency$",
                "^/v1/decisions(/export)?$",  # since later than until: 422 invalid_range
            )
        ],
    }
)
schema = schemathesis.openapi.from_asgi("/openapi.json", _APP, config=_CONFIG)


@pytest.fixture(scope="module", autouse=True)
def _close_state():
    yield
    _STATE.close()
    shutil.rmtree(_TMP, ignore_errors=True)


@schema.parametrize()
def test_api_conforms_to_its_schema(case):
    case.call_and_validate()
