"""Migrations: empty -> head works, and the models match the migrations exactly."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Engine, Integer, MetaData, inspect

from orders.db import (
    alembic_config,
    current_revisions,
    head_revisions,
    make_engine,
    target_metadata,
    upgrade,
)

OWN_TABLES = {
    "alembic_version",
    "catalog_loads",
    "stores",
    "option_groups",
    "option_choices",
    "products",
    "customers",
    "identities",
    "carts",
    "cart_lines",
    "orders",
    "order_lines",
    "order_events",
}


def _differences(engine: Engine, metadata: MetaData) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_upgrade_from_empty_to_head(empty_url: str) -> None:
    engine = make_engine(empty_url)
    assert set(inspect(engine).get_table_names()) == set()
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert tables >= OWN_TABLES
    assert tables == {*target_metadata().tables, "alembic_version"}
    assert current_revisions(engine) == head_revisions(engine)
    engine.dispose()


def test_models_match_the_migrations(engine: Engine) -> None:
    assert _differences(engine, target_metadata()) == []


def test_a_model_change_without_migration_is_found(engine: Engine) -> None:
    """The comparison above is live: a column that only the models have shows up."""
    models = target_metadata()
    metadata = MetaData(naming_convention=models.naming_convention)
    for table in models.tables.values():
        table.to_metadata(metadata)
    metadata.tables["orders"].append_column(Column("tip", Integer, nullable=True))
    differences = _differences(engine, metadata)
    assert [d[0] for d in differences if isinstance(d, tuple)] == ["add_column"]


def test_downgrade_to_base_and_up_again(engine: Engine) -> None:
    config = alembic_config(engine)
    command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= OWN_TABLES
