"""The in-memory ports (`fakes.memory`) keep the promises of `briefings.ports`.

Tests and benchmarks stand on these instead of a database, so they must behave as storage does:
one state per chat that a migration moves whole, a subscription that plans its rows, and a
ledger that sends each row once, skips what is too late and waits for unreachable chats.
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from briefings.ports import ChatRef, ChatState, Settled, Subscription
from briefings.schedule import Digest, plan
from fakes.memory import MemoryChatStates, MemoryLedger, memory_ports

GROUP = ChatRef("telegram", "-100")
ALICE = ChatRef("telegram", "5001")
VISIT = "turin-gwangju-2024"
DAYS = (date(2024, 8, 26), date(2024, 8, 27), date(2024, 8, 28))
PLAN = plan(VISIT, DAYS)
SEOUL_0730 = Subscription("turin-gwangju", time(7, 30), "Asia/Seoul", subscriber="42")
BEFORE = datetime(2024, 8, 20, tzinfo=UTC)
# 07:30 in Seoul on the eve (25 August) is 22:30 UTC on the 24th.
EVE_DUE = datetime(2024, 8, 24, 22, 30, tzinfo=UTC)
EVE = Digest(VISIT, "eve", date(2024, 8, 25)).key
DAY1 = Digest(VISIT, "morning", date(2024, 8, 26)).key


@pytest.fixture
def ports() -> tuple[MemoryChatStates, MemoryLedger]:
    return memory_ports()


# --- chat state ---------------------------------------------------------------------------


def test_an_unknown_chat_has_the_default_state() -> None:
    assert MemoryChatStates().state(ALICE) == ChatState()


def test_each_setting_changes_only_itself() -> None:
    states = MemoryChatStates()
    states.set_lang(ALICE, "ko")
    states.set_visit(ALICE, "gwangju-turin-2024-04")
    states.set_reachable(ALICE, False)
    assert states.state(ALICE) == ChatState("ko", "gwangju-turin-2024-04", False, None)
    assert states.state(GROUP) == ChatState()


def test_a_migration_moves_everything_and_its_digests_follow(
    ports: tuple[MemoryChatStates, MemoryLedger],
) -> None:
    states, ledger = ports
    states.set_lang(GROUP, "it")
    states.set_visit(GROUP, VISIT)
    states.subscribe(GROUP, SEOUL_0730, PLAN, BEFORE)
    states.migrate(GROUP, "-1009")
    supergroup = ChatRef("telegram", "-1009")
    assert states.state(supergroup) == ChatState("it", VISIT, True, SEOUL_0730)
    assert states.state(GROUP) == ChatState()
    [claimed] = ledger.claim(EVE_DUE, limit=10)
    assert claimed.recipient.chat == supergroup
    assert claimed.recipient.lang == "it"
    # ...and the supergroup can cancel what the group set up.
    assert states.unsubscribe(supergroup) is True
    assert states.state(supergroup).subscription is None


def test_a_migration_keeps_what_the_new_id_chose_itself() -> None:
    states = MemoryChatStates()
    states.set_lang(GROUP, "it")
    states.set_visit(GROUP, VISIT)
    states.set_lang(ChatRef("telegram", "-1009"), "ko")
    states.migrate(GROUP, "-1009")
    assert states.state(ChatRef("telegram", "-1009")) == ChatState("ko", VISIT, True, None)


# --- subscriptions --------------------------------------------------------------------------


def test_subscribing_plans_only_the_digests_still_to_come(
    ports: tuple[MemoryChatStates, MemoryLedger],
) -> None:
    states, ledger = ports
    states.subscribe(ALICE, SEOUL_0730, PLAN, EVE_DUE)  # the eve is due now: not planned
    assert [r.digest_key for r in ledger.rows()] == [d.key for d in PLAN[1:]]
    assert states.state(ALICE).subscription == SEOUL_0730


def test_a_new_time_replans_pending_rows_and_keeps_sent_ones(
    ports: tuple[MemoryChatStates, MemoryLedger],
) -> None:
    states, ledger = ports
    states.subscribe(ALICE, SEOUL_0730, PLAN, BEFORE)
    [eve] = ledger.claim(EVE_DUE, limit=1)
    ledger.settle([Settled(eve.delivery_id, "sent", EVE_DUE)])
    later = Subscription("turin-gwangju", time(9, 0), "Asia/Seoul")
    states.subscribe(ALICE, later, PLAN, BEFORE)
    rows = ledger.rows()
    assert len(rows) == len(PLAN)
    assert (rows[0].digest_key, rows[0].status, rows[0].due_at) == (EVE, "sent", EVE_DUE)
    assert rows[1].due_at == datetime(2024, 8, 26, 0, 0, tzinfo=UTC)  # 09:00 in Seoul


def test_unsubscribing_drops_pending_rows_and_says_whether_there_was_one(
    ports: tuple[MemoryChatStates, MemoryLedger],
) -> None:
    states, ledger = ports
    assert states.unsubscribe(ALICE) is False
    states.subscribe(ALICE, SEOUL_0730, PLAN, BEFORE)
    assert states.unsubscribe(ALICE) is True
    assert states.unsubscribe(ALICE) is False
    assert ledger.rows() == []
    assert states.state(ALICE).subscription is None
    assert ledger.claim(datetime(2024, 9, 1, tzinfo=UTC), limit=10) == []


# --- the ledger -------------------------------------------------------------------------------


def test_claims_are_due_rows_earliest_first_each_taken_once(
    ports: tuple[MemoryChatStates, MemoryLedger],
) -> None:
    states, ledger = ports
    states.subscribe(ALICE, SEOUL_0730, PLAN, BEFORE)
    states.subscribe(GROUP, Subscription("turin-gwangju", time(6, 0), "Asia/Seoul"), PLAN, BEFORE)
    day1 = datetime(2024, 8, 25, 23, 0, tzinfo=UTC)  # 08:00 in Seoul on day 1
    claimed = ledger.claim(day1, limit=3)
    assert [(c.digest_key, c.recipient.chat) for c in claimed] == [
        (EVE, GROUP),
        (EVE, ALICE),
        (DAY1, GROUP),
    ]
    assert all(c.attempts == 1 for c in claimed)
    assert [(c.digest_key, c.recipient.chat) for c in ledger.claim(day1, limit=3)] == [
        (DAY1, ALICE)
    ]
    assert ledger.claim(day1, limit=3) == []


def test_a_claim_reads_the_chat_language_at_claim_time(
    ports: tuple[MemoryChatStates, MemoryLedger],
) -> None:
    states, ledger = ports
    states.subscribe(ALICE, SEOUL_0730, PLAN, BEFORE)
    [eve] = ledger.claim(EVE_DUE, limit=1)
    assert eve.recipient.lang == "en"  # the default, as none was chosen
    states.set_lang(ALICE, "ko")
    [day1] = ledger.claim(EVE_DUE + timedelta(days=1), limit=1)
    assert day1.recipient.lang == "ko"
    assert (day1.recipient.at, day1.recipient.timezone) == (time(7, 30), "Asia/Seoul")


def test_pending_outcome_retries_not_before_its_time(
    ports: tuple[MemoryChatStates, MemoryLedger],
) -> None:
    states, ledger = ports
    states.subscribe(ALICE, SEOUL_0730, PLAN, BEFORE)
    [eve] = ledger.claim(EVE_DUE, limit=1)
    retry_at = EVE_DUE + timedelta(minutes=5)
    ledger.settle([Settled(eve.delivery_id, "pending", retry_at, "flood control")])
    assert ledger.claim(retry_at - timedelta(seconds=1), limit=1) == []
    [again] = ledger.claim(retry_at, limit=1)
    assert (again.delivery_id, again.attempts) == (eve.delivery_id, 2)


def test_a_blocked_chat_waits_and_an_unblocked_one_resumes(
    ports: tuple[MemoryChatStates, MemoryLedger],
) -> None:
    states, ledger = ports
    states.subscribe(ALICE, SEOUL_0730, PLAN, BEFORE)
    [eve] = ledger.claim(EVE_DUE, limit=1)
    ledger.settle([Settled(eve.delivery_id, "blocked", EVE_DUE, "Forbidden")])
    assert states.state(ALICE).reachable is False
    day1_due = EVE_DUE + timedelta(days=1)
    assert ledger.claim(day1_due, limit=5) == []
    states.set_reachable(ALICE, True)
    assert [c.digest_key for c in ledger.claim(day1_due, limit=5)] == [DAY1]


def test_missed_rows_beyond_grace_are_skipped_and_reported(
    ports: tuple[MemoryChatStates, MemoryLedger],
) -> None:
    states, ledger = ports
    states.subscribe(ALICE, SEOUL_0730, PLAN, BEFORE)
    now = EVE_DUE + timedelta(days=1, minutes=30)  # the eve a day late, day 1 half an hour
    skipped = ledger.skip_missed(now, grace=timedelta(hours=2))
    assert skipped == [f"{EVE} for subscription 1"]
    assert [c.digest_key for c in ledger.claim(now, limit=5)] == [DAY1]
    assert ledger.rows("skipped")[0].detail == "missed by more than 2:00:00"


def test_only_rows_in_flight_are_settled_and_the_transcript_tells_the_story(
    ports: tuple[MemoryChatStates, MemoryLedger],
) -> None:
    states, ledger = ports
    states.subscribe(ALICE, SEOUL_0730, PLAN, BEFORE)
    [eve] = ledger.claim(EVE_DUE, limit=1)
    ledger.settle([Settled(eve.delivery_id, "sent", EVE_DUE)])
    ledger.settle([Settled(eve.delivery_id, "failed", EVE_DUE, "too late")])  # already done
    assert ledger.rows("sent")[0].digest_key == EVE
    assert ledger.transcript == [f"claimed {EVE} telegram:5001", f"sent {EVE} telegram:5001"]
