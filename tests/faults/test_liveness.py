"""Issue 10, defect 6: a process's liveness on PostgreSQL survives a dropped connection.

Before: liveness was a session advisory lock. `pg_terminate_backend` on the owner's sessions
freed it and nothing took it again; a second process then "recovered" the live owner's rows
in flight and sent them again (103 duplicates in the probe). Now an owner holds a lease in
`delivery_owners`, renewed by PostgreSQL's clock in every claim and settle and by a heartbeat:
dropping its connections changes nothing, and the owner re-establishes it on a new one.

Real PostgreSQL, the real scheduler, dispatcher and Telegram sender against the fake Bot API.
"""

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from telegram import Bot

from bot.scheduling import DigestScheduler, SimulatedClock
from bot.telegram.digests import TelegramDigestSender
from bot.telegram.sending import TelegramSender
from briefings.conversation import Conversation
from briefings.delivery import DeliveryPolicy, Dispatcher
from briefings.digests import digests
from briefings.library import Library
from briefings.loader import Seeds
from briefings.rendering.renderer import Renderer
from fakes.memory import MemoryChatStates
from fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram, wait_until
from storage.engine import make_engine
from storage.ledger import Ledger
from storage.schema import Delivery
from tests.conftest import august
from tests.storage.test_scheduling import MORNING, PARTNERSHIP, _populate

CHATS = 300
OWNER_APP = "briefings-owner-a"
START = datetime.fromisoformat("2024-08-26T07:31+09:00")


@dataclass
class GatedTelegram(FakeTelegram):
    """sendMessage waits for `sends`: the owner's rows stay in flight while the test drops its
    connections and a second process looks for dead owners."""

    sends: asyncio.Event = field(default_factory=asyncio.Event)

    def _methods(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        methods = super()._methods()
        send = methods["sendmessage"]

        async def gated_send(params: dict[str, Any]) -> Any:
            await self.sends.wait()
            return send(params)

        methods["sendmessage"] = gated_send
        return methods


@pytest.fixture
async def fake() -> AsyncIterator[GatedTelegram]:
    server = GatedTelegram()
    await server.start()
    yield server
    await server.close()


def _sending(engine: Engine, owner: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.scalar(
                select(func.count()).where(Delivery.status == "sending", Delivery.owner == owner)
            )
            or 0
        )


@contextlib.asynccontextmanager
async def _process(url: str, owner: str, fake: FakeTelegram, seeds: Seeds) -> AsyncIterator[Ledger]:
    """`briefing-bot run`'s digest side, as bot/runtime.py wires it, on its own engine."""
    engine = make_engine(url)
    library = Library(seeds)
    clock = SimulatedClock(START)
    ledger = Ledger(engine, owner)
    try:
        async with Bot(DEFAULT_TOKEN, base_url=f"{fake.base_url}/bot") as bot:
            conversation = Conversation(library, MemoryChatStates(), clock)
            sender = TelegramDigestSender(TelegramSender(bot), Renderer(), conversation)
            policy = DeliveryPolicy(batch=20, concurrency=20)
            dispatcher = Dispatcher(ledger, library, {"telegram": sender}, clock, policy)
            scheduler = DigestScheduler(
                ledger=ledger,
                dispatcher=dispatcher,
                plans={PARTNERSHIP: digests(august(seeds))},
                clock=clock,
                tick_seconds=0.2,
            )
            await scheduler.start()
            try:
                yield ledger
            finally:
                await scheduler.stop()
    finally:
        engine.dispose()


def _terminate(admin: Engine, database: str, keep: set[int]) -> int:
    """Drop every session on `database` but `keep`'s, as an operator or a failover would."""
    with admin.connect() as connection:
        return len(
            connection.execute(
                text(
                    "select pg_terminate_backend(pid) from pg_stat_activity"
                    " where datname = :db and pid <> pg_backend_pid() and pid <> all(:keep)"
                ),
                {"db": database, "keep": list(keep)},
            ).all()
        )


async def test_a_dropped_connection_keeps_the_owner_alive_and_its_rows_its_own(
    fake: GatedTelegram, postgres_url: str, seeds: Seeds
) -> None:
    chats = _populate(postgres_url, seeds, CHATS)
    database = postgres_url.rsplit("/", 1)[1]
    admin = create_engine(
        postgres_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT"
    )
    # The second process, and the test's own look at the database.
    other = make_engine(postgres_url)
    try:
        async with _process(postgres_url, "owner-a", fake, seeds):
            # The owner claimed a batch and waits on its sends: rows in flight.
            await wait_until(lambda: _sending(other, "owner-a") > 0, timeout=30)
            in_flight = _sending(other, "owner-a")
            with other.connect() as connection:
                mine = {connection.scalar(text("select pg_backend_pid()"))}
                connection.commit()
                dropped_at = connection.scalar(text("select now()"))
            # The owner's every session, whichever holds its liveness, goes.
            assert _terminate(admin, database, mine) > 0
            # A second process looking for dead owners finds none: the owner is alive.
            second = Ledger(other, "owner-b")
            assert second.recover() == 0
            assert _sending(other, "owner-a") == in_flight
            fake.sends.set()
            await wait_until(
                lambda: (
                    "sent" in second.counts()
                    and second.counts()["sent"] >= CHATS
                    and "sending" not in second.counts()
                ),
                timeout=60,
            )
            # The owner re-established its lease on a new connection after the drop.
            with other.connect() as connection:
                lease_until = connection.scalar(
                    text("select lease_until from delivery_owners where owner = 'owner-a'")
                )
            assert lease_until is not None
            assert lease_until > dropped_at
            assert second.recover() == 0
    finally:
        other.dispose()
        admin.dispose()
    mornings = Counter(p["chat_id"] for p in fake.sent() if MORNING in p["text"])
    assert mornings == dict.fromkeys(chats, 1)  # 0 lost, 0 duplicates
