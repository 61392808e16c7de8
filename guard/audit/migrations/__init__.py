"""Alembic migrations for the PostgreSQL audit store; `PostgresStore` runs them when it opens."""
