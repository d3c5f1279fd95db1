"""Planning on SQLite and PostgreSQL: `Ledger.plan_all` in batches writes every future row once,
at the right instant, however often and by however many processes it runs."""

import logging
import threading
from datetime import UTC, datetime, time, timedelta
from time import monotonic, sleep

import pytest
from sqlalchemy import Connection, Engine, func, insert, select, text, update

from briefings.digests import digests
from briefings.loader import Seeds
from briefings.ports import ChatRef, Subscription
from briefings.schedule import Digest, due_at
from storage.chats import SqlChatStates
from storage.engine import make_engine
from storage.ledger import Ledger
from storage.migrate import upgrade
from storage.schema import Delivery
from storage.schema import Subscription as SubscriptionRow

from ..conftest import august

PARTNERSHIP = "turin-gwangju"
BEFORE = datetime(2024, 8, 20, tzinfo=UTC)
# After the eve and the first morning in every zone below: three digests are still to come.
MIDWAY = datetime(2024, 8, 26, 12, tzinfo=UTC)
ZONES = ("Asia/Seoul", "Europe/Rome", "America/New_York")
TIMES = (time(6, 0), time(7, 30), time(21, 45))
CHATS = 11  # over several batches of 3, the last one short


def _plans(seeds: Seeds) -> dict[str, list[Digest]]:
    return {PARTNERSHIP: digests(august(seeds))}


def _subscribe_without_rows(engine: Engine, count: int) -> list[tuple[int, time, str]]:
    """`count` chats subscribed with an empty plan: their rows are plan_all's to write."""
    chats = SqlChatStates(engine)
    for n in range(count):
        subscription = Subscription(PARTNERSHIP, TIMES[n % len(TIMES)], ZONES[n % len(ZONES)])
        chats.subscribe(ChatRef("telegram", str(1000 + n)), subscription, [], BEFORE)
    with engine.connect() as connection:
        rows = connection.execute(
            select(SubscriptionRow.id, SubscriptionRow.local_time, SubscriptionRow.timezone)
        ).all()
    return [(sub_id, time.fromisoformat(at), zone) for sub_id, at, zone in rows]


def _ledger(engine: Engine) -> dict[tuple[int, str], tuple[datetime, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(Delivery.subscription_id, Delivery.digest_key, Delivery.due_at, Delivery.status)
        ).all()
    keys = [(sub, key) for sub, key, _, _ in rows]
    assert len(keys) == len(set(keys)), "a (subscription, digest) has two rows"
    return {(sub, key): (due, status) for sub, key, due, status in rows}


def test_plan_all_in_batches_writes_every_future_row_at_its_instant(
    engine: Engine, seeds: Seeds
) -> None:
    subs = _subscribe_without_rows(engine, CHATS)
    plan = digests(august(seeds))
    added = Ledger(engine, "a").plan_all(_plans(seeds), MIDWAY, batch=3)
    expected = {
        (sub_id, d.key): due_at(d, at, zone)
        for sub_id, at, zone in subs
        for d in plan
        if due_at(d, at, zone) > MIDWAY
    }
    ledger = _ledger(engine)
    assert {k: due for k, (due, _) in ledger.items()} == expected
    assert added == len(expected)
    # Some rows were in the past for some zones and not others: the filter is per row.
    assert len({sub for sub, _ in expected}) == CHATS
    assert len(expected) < CHATS * len(plan)


def test_plan_all_again_adds_nothing_and_leaves_rows_as_they_are(
    engine: Engine, seeds: Seeds
) -> None:
    _subscribe_without_rows(engine, CHATS)
    ledger = Ledger(engine, "a")
    ledger.plan_all(_plans(seeds), BEFORE, batch=4)
    with engine.begin() as connection:  # one row sent, another moved, since the first plan
        first, second = connection.scalars(select(Delivery.id).order_by(Delivery.id).limit(2))
        connection.execute(update(Delivery).where(Delivery.id == first).values(status="sent"))
        moved = BEFORE + timedelta(days=3)
        connection.execute(update(Delivery).where(Delivery.id == second).values(due_at=moved))
    before = _ledger(engine)

    assert ledger.plan_all(_plans(seeds), BEFORE, batch=4) == 0
    assert Ledger(engine, "b").plan_all(_plans(seeds), BEFORE) == 0
    assert _ledger(engine) == before


def test_cancelled_subscriptions_are_not_planned(engine: Engine, seeds: Seeds) -> None:
    _subscribe_without_rows(engine, 4)
    chats = SqlChatStates(engine)
    assert chats.unsubscribe(ChatRef("telegram", "1001"))
    Ledger(engine, "a").plan_all(_plans(seeds), BEFORE, batch=2)
    with engine.connect() as connection:
        planned = connection.scalar(
            select(func.count(func.distinct(Delivery.subscription_id))).select_from(Delivery)
        )
    assert planned == 3


def test_two_processes_planning_at_once_write_each_row_once(engine: Engine, seeds: Seeds) -> None:
    """Every process plans at start-up: two starting together must not double a row, nor
    fail on each other's (on PostgreSQL the second waits for the first's rows, then skips)."""
    subs = _subscribe_without_rows(engine, CHATS)
    ledgers = [Ledger(engine, name) for name in ("a", "b")]
    errors: list[BaseException] = []
    added: list[int] = []
    start = threading.Barrier(len(ledgers))

    def plan(ledger: Ledger) -> None:
        try:
            start.wait(timeout=30)
            added.append(ledger.plan_all(_plans(seeds), BEFORE, batch=2))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=plan, args=(ledger,)) for ledger in ledgers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    rows = _ledger(engine)
    assert len(rows) == len(subs) * len(digests(august(seeds)))
    assert sum(added) == len(rows)
    # Claimed by both processes at once, each row still goes to exactly one.
    due = max(due for due, _ in rows.values()) + timedelta(minutes=1)
    claims = [c.delivery_id for ledger in ledgers for c in ledger.claim(due, 1000)]
    assert sorted(claims) == sorted(set(claims))
    assert len(claims) == len(rows)


def test_a_plan_that_meets_rows_another_process_committed_first_plans_again(
    postgres_url: str, seeds: Seeds, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL copies rows straight into the ledger, which knows no ON CONFLICT: rows that
    another transaction holds make the copy wait, then fail once it commits. The plan is then
    rolled back and made again, and the other process's row is left as it wrote it."""
    engine = make_engine(postgres_url)
    upgrade(engine)
    try:
        subs = _subscribe_without_rows(engine, CHATS)
        plan = digests(august(seeds))
        taken = (subs[CHATS // 2][0], plan[0].key)
        errors: list[BaseException] = []
        added: list[int] = []

        def planning() -> None:
            try:
                added.append(Ledger(engine, "a").plan_all(_plans(seeds), BEFORE, batch=2))
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)

        caplog.set_level(logging.INFO, logger="storage.ledger")
        with engine.connect() as other:
            other.execute(
                insert(Delivery).values(
                    subscription_id=taken[0], digest_key=taken[1], due_at=BEFORE, status="sent"
                )
            )
            thread = threading.Thread(target=planning)
            thread.start()
            _wait_for_a_lock_wait(other)
            other.commit()
        thread.join(timeout=60)
        assert not thread.is_alive(), "the planner did not finish"
        assert errors == []
        rows = _ledger(engine)
        assert len(rows) == len(subs) * len(plan)
        assert added == [len(rows) - 1]
        assert rows[taken] == (BEFORE, "sent")
        assert "planning again" in caplog.text
    finally:
        engine.dispose()


def _wait_for_a_lock_wait(connection: Connection) -> None:
    """Until another backend of this database waits on a lock (ours): the planner reached the
    row we hold."""
    deadline = monotonic() + 30
    waiting = text(
        "select count(*) from pg_stat_activity "
        "where wait_event_type = 'Lock' and pid <> pg_backend_pid() "
        # The test's own database: other tests' backends share the server's view.
        "and datname = current_database()"
    )
    while True:
        # pg_stat_activity is read once per transaction, unless its snapshot is cleared.
        connection.execute(text("select pg_stat_clear_snapshot()"))
        if connection.execute(waiting).scalar():
            return
        assert monotonic() < deadline, "the planner never waited on the row we hold"
        sleep(0.02)
