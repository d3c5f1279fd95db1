"""Requests already taken on, in SQL: `briefings.ports.SeenRequests`.

The database, not the process, remembers: a Slack retry that reaches another process, or a
Telegram update redelivered after a restart, is recognised as well. One row per key under a
primary key; `INSERT … ON CONFLICT DO NOTHING RETURNING` (SQLite and PostgreSQL alike) inserts
it for exactly one of any number of racing deliveries, and returns the row to that caller alone.
"""

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete
from sqlalchemy.dialects import postgresql, sqlite

from storage.schema import SeenRequest

# Telegram keeps an update it could not deliver for 24 hours and Slack retries within minutes:
# a key older than this cannot come back.
RETENTION = timedelta(days=2)
# Pruning is one indexed DELETE; once in a while is enough to keep the table small.
PRUNE_EVERY = timedelta(minutes=10)
MAX_KEY = 160


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SqlSeenRequests:
    def __init__(
        self,
        engine: Engine,
        *,
        retention: timedelta = RETENTION,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._engine = engine
        self._retention = retention
        self._clock = clock
        self._next_prune: datetime | None = None
        statement = (
            postgresql.insert(SeenRequest)
            if engine.dialect.name == "postgresql"
            else sqlite.insert(SeenRequest)
        )
        # RETURNING, not the row count: on psycopg SQLAlchemy reports a row count of -1 for
        # this statement whether it inserted or not.
        self._insert = statement.on_conflict_do_nothing(index_elements=["key"]).returning(
            SeenRequest.key
        )

    def first_time(self, key: str) -> bool:
        return self.first_times([key])[0]

    def first_times(self, keys: Sequence[str]) -> list[bool]:
        stored = [bounded(key) for key in keys]
        # In one order for every caller: two processes inserting the same keys in different
        # orders would each wait on the other's row (a deadlock, on PostgreSQL).
        unique = sorted(set(stored))
        if not unique:
            return []
        now = self._clock()
        with self._engine.begin() as connection:
            if self._next_prune is None or now >= self._next_prune:
                self._next_prune = now + PRUNE_EVERY
                connection.execute(
                    delete(SeenRequest).where(SeenRequest.seen_at < now - self._retention)
                )
            # One statement for them all (SQLAlchemy's "insertmanyvalues"): the rows it
            # returns are the keys this call inserted.
            rows = [{"key": key, "seen_at": now} for key in unique]
            new = set(connection.execute(self._insert, rows).scalars())
        answers = []
        for key in stored:
            answers.append(key in new)
            new.discard(key)  # the same key again in this call is not new
        return answers


def bounded(key: str) -> str:
    """Keys come from what platforms send; one too long for the column is stored as its hash."""
    if len(key) <= MAX_KEY:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
