"""Bring a database to the newest schema with Alembic, from code (no alembic.ini needed)."""

from pathlib import Path

from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).with_name("migrations")


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Processes starting together must not migrate at once; the lock ends with the
            # transaction.
            connection.execute(
                text("select pg_advisory_xact_lock(hashtextextended('briefings-migrate', 0))")
            )
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
