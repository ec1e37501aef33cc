"""Alembic environment for Deflect's event database: run by `deflect.store.events.migrate(url)` (and `deflect db
upgrade`); the URL comes from the Alembic config that call builds."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from deflect.store.tables import Base

config = context.config
MIGRATION_LOCK = 0x6465666C656374  # "deflect": the advisory lock every migrating process takes


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":  # held to the commit: one process migrates at a time
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
