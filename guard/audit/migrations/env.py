"""Alembic environment for the audit store's schema.

`PostgresStore` runs it in code, passing an open connection whose transaction already
holds the migration lock. An operator may also run it with the `alembic` command and
an ini file whose `sqlalchemy.url` names the database.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from guard.audit._postgres import VERSION_TABLE


def _run(connection: Connection) -> None:
    context.configure(connection=connection, version_table=VERSION_TABLE)
    with context.begin_transaction():  # a no-op inside the store's own transaction
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url, or pass a connection in Config.attributes")
    engine = create_engine(url)
    try:
        with engine.connect() as own:
            _run(own)
            own.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("the audit schema has no offline (--sql) mode; run it against a database")
_main()
