"""The ledger on SQLite and PostgreSQL: one claim per row, late within grace, recovery."""

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Engine

from briefings.delivery import DeliveryPolicy, Dispatcher, Outcome
from briefings.digests import digests
from briefings.loader import Seeds
from briefings.replies import Reply
from briefings.storage.ledger import Ledger, Settled

from ..conftest import AUGUST, august

SEOUL_0730_DAY1 = datetime(2024, 8, 25, 22, 30, tzinfo=UTC)  # 07:30 in Seoul on 26 August
BEFORE = datetime(2024, 8, 20, tzinfo=UTC)


def _subscribe(ledger: Ledger, seeds: Seeds, key: str, zone: str = "Asia/Seoul") -> int:
    info = ledger.subscribe(
        platform="telegram",
        chat_key=key,
        visit_id=AUGUST,
        at=time(7, 30),
        timezone=zone,
        lang="en",
        plan=digests(august(seeds)),
        now=BEFORE,
    )
    return info.id


def test_subscribing_plans_every_future_digest(engine: Engine, seeds: Seeds) -> None:
    ledger = Ledger(engine, "a")
    _subscribe(ledger, seeds, "1")
    upcoming = ledger.upcoming(BEFORE)
    assert [r.digest_key.split(":", 1)[1] for r in upcoming] == [
        "eve:2024-08-25",
        "morning:2024-08-26",
        "morning:2024-08-27",
        "morning:2024-08-28",
        "recap:2024-08-29",
    ]
    assert upcoming[1].due_at == SEOUL_0730_DAY1


def test_resubscribing_moves_pending_rows_and_keeps_one_row_per_digest(
    engine: Engine, seeds: Seeds
) -> None:
    ledger = Ledger(engine, "a")
    _subscribe(ledger, seeds, "1")
    ledger.subscribe(
        platform="telegram",
        chat_key="1",
        visit_id=AUGUST,
        at=time(9, 0),
        timezone="Europe/Rome",
        lang="it",
        plan=digests(august(seeds)),
        now=BEFORE,
    )
    rows = ledger.upcoming(BEFORE)
    assert len(rows) == 5
    assert rows[1].due_at == datetime(2024, 8, 26, 7, 0, tzinfo=UTC)  # 09:00 in Rome, summer
    assert len(ledger.subscriptions("telegram", "1")) == 1


def test_a_due_row_is_claimed_once(engine: Engine, seeds: Seeds) -> None:
    first, second = Ledger(engine, "a"), Ledger(engine, "b")
    _subscribe(first, seeds, "1")
    at = SEOUL_0730_DAY1 + timedelta(seconds=1)
    claimed = first.claim(at, 10)
    assert [c.digest_key.split(":", 1)[1] for c in claimed] == [
        "eve:2024-08-25",
        "morning:2024-08-26",
    ]
    assert second.claim(at, 10) == []
    assert first.claim(at, 10) == []


def test_nothing_is_due_early(engine: Engine, seeds: Seeds) -> None:
    ledger = Ledger(engine, "a")
    _subscribe(ledger, seeds, "1")
    assert ledger.claim(datetime(2024, 8, 24, 22, 29, tzinfo=UTC), 10) == []


def test_missed_beyond_grace_is_skipped_not_sent(engine: Engine, seeds: Seeds) -> None:
    ledger = Ledger(engine, "a")
    _subscribe(ledger, seeds, "1")
    late = SEOUL_0730_DAY1 + timedelta(hours=1)
    skipped = ledger.skip_missed(late, timedelta(hours=2))
    assert len(skipped) == 1  # only the eve, a day old
    assert "eve:2024-08-25" in skipped[0]
    assert [c.digest_key.split(":")[1] for c in ledger.claim(late, 10)] == ["morning"]


def test_recovery_requeues_rows_of_a_stopped_process(engine: Engine, seeds: Seeds) -> None:
    dead = Ledger(engine, "dead")
    _subscribe(dead, seeds, "1")
    at = SEOUL_0730_DAY1
    assert len(dead.claim(at, 10)) == 2
    alive = Ledger(engine, "alive")
    assert alive.claim(at, 10) == []
    assert alive.recover() == 2
    assert len(alive.claim(at, 10)) == 2


def test_a_live_owner_keeps_its_rows_on_postgresql(postgres_url: str, seeds: Seeds) -> None:
    """SQLite serves one process, so only PostgreSQL can tell a live owner from a dead one."""
    from briefings.storage.engine import make_engine
    from briefings.storage.migrate import upgrade

    engine = make_engine(postgres_url)
    upgrade(engine)
    busy = Ledger(engine, "busy")
    busy.hold_owner_lock()
    try:
        _subscribe(busy, seeds, "1")
        assert len(busy.claim(SEOUL_0730_DAY1, 10)) == 2
        assert Ledger(engine, "other").recover() == 0
    finally:
        busy.release_owner_lock()
    assert Ledger(engine, "other").recover() == 2
    engine.dispose()


def test_unsubscribe_keeps_history_and_a_resubscription_does_not_resend(
    engine: Engine, seeds: Seeds
) -> None:
    ledger = Ledger(engine, "a")
    _subscribe(ledger, seeds, "1")
    for claimed in ledger.claim(SEOUL_0730_DAY1, 10):
        ledger.settle([Settled(claimed.delivery_id, "sent", SEOUL_0730_DAY1)])
    assert ledger.unsubscribe("telegram", "1", AUGUST)
    assert ledger.subscriptions("telegram", "1") == []
    assert not ledger.unsubscribe("telegram", "1", AUGUST)
    _subscribe(ledger, seeds, "1")
    assert ledger.claim(SEOUL_0730_DAY1, 10) == []
    assert ledger.counts()["sent"] == 2


class Transcript:
    """A digest sender that records every delivery and answers from a script."""

    def __init__(self, script: dict[str, list[Outcome]] | None = None) -> None:
        self.sent: list[tuple[str, str]] = []
        self.script = script or {}

    async def deliver(self, chat_key: str, reply: Reply) -> Outcome:
        outcomes = self.script.get(chat_key)
        outcome = outcomes.pop(0) if outcomes else Outcome.SENT
        if outcome is Outcome.SENT:
            self.sent.append((chat_key, reply.data["notice"]))
        return outcome


def _dispatcher(
    engine: Engine, seeds: Seeds, sender: Transcript, now: list[datetime]
) -> Dispatcher:
    return Dispatcher(
        Ledger(engine, "me"),
        {AUGUST: (august(seeds), seeds.partnership_of(august(seeds)), seeds.articles)},
        {"telegram": sender},
        clock=lambda: now[0],
        policy=DeliveryPolicy(first_retry=timedelta(minutes=1), max_attempts=2),
    )


async def test_dispatcher_sends_each_due_digest_once(engine: Engine, seeds: Seeds) -> None:
    sender, now = Transcript(), [SEOUL_0730_DAY1]
    ledger = Ledger(engine, "setup")
    for key in ("1", "2", "3"):
        _subscribe(ledger, seeds, key)
    dispatcher = _dispatcher(engine, seeds, sender, now)
    report = await dispatcher.run_once(now[0])
    # The eve preview fell due a day earlier, beyond the grace period: skipped, not sent late.
    assert report.sent == 3
    assert len(report.skipped) == 3
    assert sorted(k for k, _ in sender.sent) == ["1", "2", "3"]
    assert {notice for _, notice in sender.sent} == {"Good morning. Today's programme:"}
    again = await dispatcher.run_once(now[0] + timedelta(minutes=1))
    assert (again.sent, again.skipped) == (0, [])
    assert len(sender.sent) == 3


async def test_a_digest_missed_within_grace_is_sent_late(engine: Engine, seeds: Seeds) -> None:
    sender, now = Transcript(), [SEOUL_0730_DAY1 + timedelta(minutes=90)]
    _subscribe(Ledger(engine, "setup"), seeds, "1")
    report = await _dispatcher(engine, seeds, sender, now).run_once(now[0])
    assert report.sent == 1
    assert sender.sent[0][0] == "1"


async def test_blocked_chat_pauses_and_failures_retry_then_give_up(
    engine: Engine, seeds: Seeds
) -> None:
    ledger = Ledger(engine, "setup")
    _subscribe(ledger, seeds, "blocked")
    _subscribe(ledger, seeds, "flaky")
    sender = Transcript(
        {
            "blocked": [Outcome.BLOCKED],
            "flaky": [Outcome.FAILED, Outcome.SENT, Outcome.FAILED, Outcome.FAILED],
        }
    )
    day1 = SEOUL_0730_DAY1 - timedelta(days=1) + timedelta(seconds=5)  # the eve only
    now = [day1]
    dispatcher = _dispatcher(engine, seeds, sender, now)
    first = await dispatcher.run_once(day1)
    assert (first.blocked, first.retried) == (1, 1)
    assert ledger.subscriptions("telegram", "blocked") == []
    now[0] = day1 + timedelta(seconds=30)
    assert (await dispatcher.run_once(now[0])).sent == 0  # not before the back-off
    now[0] = day1 + timedelta(minutes=2)
    assert (await dispatcher.run_once(now[0])).sent == 1
    assert sender.sent == [("flaky", sender.sent[0][1])]
    # The next digest fails twice: the policy allows two attempts, then it is given up.
    now[0] = SEOUL_0730_DAY1 + timedelta(seconds=5)
    assert (await dispatcher.run_once(now[0])).retried == 1
    now[0] += timedelta(minutes=5)
    assert (await dispatcher.run_once(now[0])).failed == 1
    assert ledger.counts()["failed"] == 1
    assert ledger.counts()["blocked"] == 1
