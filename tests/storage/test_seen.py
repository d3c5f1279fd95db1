"""`SqlSeenRequests` on SQLite and PostgreSQL: one first time per key, however many ask at once
from however many engines (processes); old keys pruned; any key fits."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from threading import Barrier

import pytest
from sqlalchemy import Engine, func, inspect, select

from briefings.ports import StorageUnavailable
from storage.engine import make_engine
from storage.migrate import downgrade, upgrade
from storage.schema import SeenRequest
from storage.seen import BLOCK, MAX_KEY, PRUNE_EVERY, RETENTION, SqlSeenRequests, _insert

T0 = datetime(2024, 8, 27, 0, 0, tzinfo=UTC)


def test_a_key_is_new_once(engine: Engine) -> None:
    seen = SqlSeenRequests(engine)
    assert [seen.first_time(k) for k in ("a", "b", "a", "b", "c")] == [
        True,
        True,
        False,
        False,
        True,
    ]


def test_racing_processes_get_one_first_time_between_them(
    engine: Engine, database_url: str
) -> None:
    """Eight engines (as eight processes), each asking for the same keys at the same moment."""
    engines = [engine] + [make_engine(database_url) for _ in range(7)]
    try:
        ports = [SqlSeenRequests(e) for e in engines]
        for key in (f"race-{n}" for n in range(5)):
            start = Barrier(len(ports))

            def ask(port: SqlSeenRequests, key: str = key, start: Barrier = start) -> bool:
                start.wait()
                return port.first_time(key)

            with ThreadPoolExecutor(len(ports)) as pool:
                answers = list(pool.map(ask, ports))
            assert answers.count(True) == 1, key
    finally:
        for other in engines[1:]:
            other.dispose()


def test_keys_recorded_together_are_new_once_each(engine: Engine) -> None:
    seen = SqlSeenRequests(engine)
    assert seen.first_time("before")
    long_key = "k" * 500
    keys = ["a", "before", "b", "a", long_key, long_key, "c"]
    assert seen.first_times(keys) == [True, False, True, False, True, False, True]
    assert seen.first_times(["c", "d", long_key]) == [False, True, False]
    assert seen.first_times([]) == []
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(SeenRequest))
    assert count == 6  # before, a, b, the long key's hash, c, d


def test_racing_groups_get_one_first_time_between_them(engine: Engine, database_url: str) -> None:
    """Eight engines each recording the same keys as one group, in a different order, at
    once: every key is new for exactly one of them."""
    engines = [engine] + [make_engine(database_url) for _ in range(7)]
    keys = [f"group-{n}" for n in range(20)]
    try:
        ports = [SqlSeenRequests(e) for e in engines]
        start = Barrier(len(ports))

        def ask(n: int) -> dict[str, bool]:
            mine = keys[n:] + keys[:n]
            start.wait()
            return dict(zip(mine, ports[n].first_times(mine), strict=True))

        with ThreadPoolExecutor(len(ports)) as pool:
            answers = list(pool.map(ask, range(len(ports))))
        for key in keys:
            assert [a[key] for a in answers].count(True) == 1, key
    finally:
        for other in engines[1:]:
            other.dispose()


def test_keys_older_than_any_redelivery_are_pruned(engine: Engine) -> None:
    clock = [T0]
    seen = SqlSeenRequests(engine, clock=lambda: clock[0])
    assert seen.first_time("old")
    clock[0] = T0 + RETENTION - timedelta(minutes=1)  # a prune is due; "old" is not yet old
    assert seen.first_time("recent")
    assert not seen.first_time("old")
    clock[0] = T0 + RETENTION + PRUNE_EVERY  # the next prune: "old" is past its retention
    assert seen.first_time("newer")
    with engine.connect() as connection:
        kept = set(connection.scalars(select(SeenRequest.key)))
    assert kept == {"recent", "newer"}


def test_a_key_too_long_for_the_column_is_kept_as_its_hash(engine: Engine) -> None:
    seen = SqlSeenRequests(engine)
    long_key, other = "k" * 500, "k" * 499 + "j"
    assert seen.first_time(long_key)
    assert not seen.first_time(long_key)
    assert seen.first_time(other)
    with engine.connect() as connection:
        longest = connection.scalar(select(func.max(func.length(SeenRequest.key))))
    assert longest is not None
    assert longest <= MAX_KEY


def test_the_migration_goes_down_and_up_again(engine: Engine) -> None:
    assert "seen_requests" in inspect(engine).get_table_names()
    downgrade(engine, "0004")
    assert "seen_requests" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert SqlSeenRequests(engine).first_time("after the round trip")


def test_a_database_out_of_reach_is_an_outage_not_a_driver_error() -> None:
    """Nothing listens on port 1: the port's callers see `StorageUnavailable`, as from any
    other store, whatever the driver raised."""
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    try:
        with pytest.raises(StorageUnavailable):
            SqlSeenRequests(engine).first_times(["a", "b"])
    finally:
        engine.dispose()


def test_on_sqlite_only_the_records_commit_without_waiting_for_the_disk(tmp_path: Path) -> None:
    """The seen store relaxes `synchronous` for its own transaction and puts it back: the
    connection goes back to the pool as it came, for the chats and the ledger (FULL)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'seen.sqlite3'}")
    upgrade(engine)
    connection = engine.raw_connection()
    try:
        settings = []
        connection.driver_connection.set_trace_callback(  # type: ignore[union-attr]
            lambda sql: settings.append(sql) if "synchronous" in sql else None
        )
    finally:
        connection.close()  # back to the pool: the store's next checkout is this connection
    assert SqlSeenRequests(engine).first_times(["a", "b"]) == [True, True]
    assert settings == [
        "PRAGMA synchronous",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA synchronous=2",
    ]
    with engine.connect() as again:
        assert again.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()


def test_groups_of_every_size_answer_as_key_by_key(engine: Engine) -> None:
    """Blocks are padded to a power of two by repeating their last key: whatever the size, in
    one block or several, each key is new once, and those recorded before are not."""
    seen = SqlSeenRequests(engine)
    for size in range(1, 2 * BLOCK + 3):
        keys = [f"size-{size}-{n:03}" for n in range(size)]
        before = keys[::3]
        assert seen.first_times(before) == [True] * len(before)
        assert seen.first_times(keys) == [n % 3 != 0 for n in range(size)], size
        assert seen.first_times(keys) == [False] * size


def test_a_warmed_seen_store_compiles_no_statement_for_any_group(engine: Engine) -> None:
    """Groups are padded to the statements compiled when warming: none is compiled after."""
    seen = SqlSeenRequests(engine)
    seen.warm()
    compiled = _insert.cache_info().misses
    for size in (1, 3, 5, 17, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 5):
        seen.first_times([f"warm-{size}-{n}" for n in range(size)])
    assert _insert.cache_info().misses == compiled
