"""Bring a database to the newest schema with Alembic, from code (no alembic.ini needed)."""

from pathlib import Path

from sqlalchemy import Connection, Engine, text

MIGRATIONS = Path(__file__).with_name("migrations")


def upgrade(engine: Engine, revision: str = "head") -> None:
    _migrate(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    _migrate(engine, "downgrade", revision)


def _migrate(engine: Engine, direction: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    step = command.upgrade if direction == "upgrade" else command.downgrade
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a SQLite table by copying it and dropping the original; with
            # foreign keys enforced, dropping `subscriptions` would cascade into `deliveries`.
            # SQLite ignores this pragma inside a transaction, so it comes first (SQLite's own
            # twelve-step recipe for ALTER TABLE), and the keys are checked before committing.
            _pragma(connection, "PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    # Processes starting together must not migrate at once; the lock ends with
                    # the transaction.
                    connection.execute(
                        text(
                            "select pg_advisory_xact_lock(hashtextextended('briefings-migrate', 0))"
                        )
                    )
                config.attributes["connection"] = connection
                step(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"migration left dangling foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                _pragma(connection, "PRAGMA foreign_keys=ON")


def _pragma(connection: Connection, statement: str) -> None:
    connection.exec_driver_sql(statement)
    connection.commit()
