"""PostgreSQL fixtures: a fresh schema per test on the server named by GUARD_TEST_POSTGRES_URL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.conftest import env_url

POSTGRES_ENV = "GUARD_TEST_POSTGRES_URL"


def libpq_url(url: str) -> str:
    """The URL as psycopg itself takes it (no SQLAlchemy driver suffix)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def with_search_path(url: str, schema: str) -> str:
    """The URL with the server option that puts `schema` first on the search path."""
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The base URL of a reachable PostgreSQL server, or skip saying why there is none."""
    url = env_url(POSTGRES_ENV)
    if url is None:
        pytest.skip(f"{POSTGRES_ENV} is not set; PostgreSQL store tests need a server")
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed")
    pytest.importorskip("sqlalchemy", reason="sqlalchemy is not installed")
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL at {POSTGRES_ENV} is unreachable: {exc}")
    return url


@pytest.fixture
def postgres_schema(postgres_server: str) -> Iterator[str]:
    """A new empty schema `guard_test_<random>`, dropped with everything in it afterwards."""
    import psycopg

    name = f"guard_test_{secrets.token_hex(6)}"
    with psycopg.connect(libpq_url(postgres_server), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    yield name
    with psycopg.connect(libpq_url(postgres_server), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture
def postgres_url(postgres_server: str, postgres_schema: str) -> str:
    """A URL whose connections see only this test's schema."""
    return with_search_path(postgres_server, postgres_schema)
