"""Requests already taken on, in SQL: `briefings.ports.SeenRequests`.

The database, not the process, remembers: a Slack retry that reaches another process, or a
Telegram update redelivered after a restart, is recognised as well. One row per key under a
primary key; `INSERT … ON CONFLICT DO NOTHING RETURNING` (SQLite and PostgreSQL alike) inserts
it for exactly one of any number of racing deliveries, and returns the row to that caller alone.

Every update a webhook takes on comes through here, so the statements are SQLAlchemy's, compiled
once for the engine's dialect (one INSERT for each power of two of rows), and run on the driver's
own cursor as `storage.chats._StateRead` runs the state read: SQLAlchemy's execution path cost
three times the statement and its commit (`storage/driver.py`).

On SQLite, a record's commit goes to the write-ahead log without waiting for the disk
(`synchronous=NORMAL` for that transaction alone; the chats, subscriptions and ledger keep
SQLite's default, FULL). Waiting for the disk was most of what a flood of webhook updates cost
one process. What it gives up is narrow: the database stays consistent whatever happens, and a
process that crashes loses nothing; only a power cut or an operating-system crash can lose the
records of the last moments, and all that can follow is one duplicate answer to an update that
Telegram or Slack delivered again across that crash (a record only ever prevents a duplicate:
an update's 200 is given before its record is written). PostgreSQL commits as configured.
"""

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.pool import PoolProxiedConnection

from storage.driver import DriverStatement, driver_cursor
from storage.schema import SeenRequest

# Telegram keeps an update it could not deliver for 24 hours and Slack retries within minutes:
# a key older than this cannot come back.
RETENTION = timedelta(days=2)
# Pruning is one indexed DELETE; once in a while is enough to keep the table small.
PRUNE_EVERY = timedelta(minutes=10)
MAX_KEY = 160
# Rows per INSERT: a larger group is several statements in the one transaction.
BLOCK = 64
# The rows of the INSERTs compiled: every block is padded to one of these (`_padded`).
SIZES = tuple(1 << n for n in range(BLOCK.bit_length()))
# Where a pooled SQLite connection remembers its own `synchronous` setting.
_SYNCHRONOUS = "briefings.seen.synchronous"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SqlSeenRequests:
    """A database outage raises `StorageUnavailable` (the caller decides what to do without)."""

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
        dialect = engine.dialect
        self._dialect = dialect
        self._prune = DriverStatement(
            delete(SeenRequest).where(
                SeenRequest.seen_at < bindparam("before", type_=SeenRequest.seen_at.type)
            ),
            dialect,
        )
        # On SQLite the records' commits do not wait for the disk; see the module's docstring.
        self._relax: Callable[[PoolProxiedConnection, DBAPICursor], int | None] = (
            _relaxed_sync if dialect.name == "sqlite" else lambda connection, cursor: None
        )

    def warm(self) -> None:
        """Compile now the statements a first write of each size would (a serving process
        calls this before its first update)."""
        for rows in SIZES:
            _insert(self._dialect, rows)

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
        new: set[str] = set()
        with driver_cursor(self._engine) as (connection, cursor):
            relaxed = self._relax(connection, cursor)
            try:
                if self._next_prune is None or now >= self._next_prune:
                    self._next_prune = now + PRUNE_EVERY
                    before = now - self._retention
                    cursor.execute(self._prune.sql, self._prune.bound({"before": before}))
                for start in range(0, len(unique), BLOCK):
                    block = _padded(unique[start : start + BLOCK])
                    insert = _insert(self._dialect, len(block))
                    params: dict[str, Any] = {f"key_{n}": k for n, k in enumerate(block)}
                    params.update({f"seen_at_{n}": now for n in range(len(block))})
                    cursor.execute(insert.sql, insert.bound(params))
                    new.update(row[0] for row in cursor.fetchall())
                connection.commit()
            finally:
                if relaxed is not None:
                    cursor.execute(f"PRAGMA synchronous={relaxed}")
        answers = []
        for key in stored:
            answers.append(key in new)
            new.discard(key)  # the same key again in this call is not new
        return answers


def _padded(block: list[str]) -> list[str]:
    """`block` grown to the next power of two by repeating its last key, so that a handful of
    statements serve every size (a key's second row in one INSERT is a conflict like any
    other: inserted once, returned once)."""
    size = 1 << (len(block) - 1).bit_length()
    return block + [block[-1]] * (size - len(block))


@lru_cache(maxsize=len(SIZES) * 2)
def _insert(dialect: Dialect, rows: int) -> DriverStatement:
    """`rows` keys inserted unless present, returning those inserted, for `dialect`."""
    insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(SeenRequest)
        .values(
            [
                {
                    "key": bindparam(f"key_{n}", type_=SeenRequest.key.type),
                    "seen_at": bindparam(f"seen_at_{n}", type_=SeenRequest.seen_at.type),
                }
                for n in range(rows)
            ]
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(SeenRequest.key)
    )
    return DriverStatement(statement, dialect)


def _relaxed_sync(connection: PoolProxiedConnection, cursor: DBAPICursor) -> int | None:
    """On SQLite, this connection's commits written to the WAL without waiting for the disk
    (`synchronous=NORMAL`) until the setting returned is put back; None elsewhere. The
    connection's own setting is read once and remembered with it (nothing else changes it)."""
    previous = connection.info.get(_SYNCHRONOUS)
    if previous is None:
        cursor.execute("PRAGMA synchronous")
        row = cursor.fetchone()
        previous = connection.info[_SYNCHRONOUS] = int(row[0]) if row is not None else 2
    cursor.execute("PRAGMA synchronous=NORMAL")
    return int(previous)


def bounded(key: str) -> str:
    """Keys come from what platforms send; one too long for the column is stored as its hash."""
    if len(key) <= MAX_KEY:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
