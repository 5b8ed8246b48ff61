"""Alembic environment: runs on the engine orders.db.alembic_config() hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from orders.db import target_metadata

config = context.config


def run_migrations() -> None:
    """Run the migrations online, on the engine passed in config.attributes."""
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):
        raise RuntimeError("run migrations through `voicecart db upgrade` (orders.db.upgrade)")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata(),
            # SQLite cannot ALTER most things: batch mode copies the table instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported; run them against a database")
run_migrations()
