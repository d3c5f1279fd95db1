"""Issue 10, defect 4: a digest of several messages is recorded part by part.

Before: a failed 2nd message made the whole digest go out again, so each chat got the 1st
message twice (a 429 of 120 s, then five 500s) or five times (a 400, retried as if it might
pass). Now a retry resumes from the first part not sent, and a 400 is final for that chat and
that digest, on record for `briefing-bot deliveries` and `/subscriptions`.

The real thing over loopback: python-telegram-bot against the fake Bot API, the real ledger on
a SQLite file, the dispatcher driven by a clock the test moves. The digest is forced to split
by a tiny Telegram message limit.
"""

from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from telegram import Bot

from bot.telegram.digests import TelegramDigestSender
from bot.telegram.sending import TelegramSender
from briefings.conversation import Conversation, Incoming
from briefings.delivery import DeliveryPolicy, Dispatcher
from briefings.digests import digest_reply, digests
from briefings.library import Library
from briefings.loader import Seeds
from briefings.ports import ChatRef, Subscription
from briefings.rendering.dialects import DIALECTS, TELEGRAM
from briefings.rendering.renderer import Renderer
from briefings.schedule import Digest, due_at
from fakes.telegram_api import (
    DEFAULT_TOKEN,
    FakeTelegram,
    Json,
    error,
    server_error,
    too_many_requests,
)
from storage.chats import SqlChatStates
from storage.engine import make_engine
from storage.ledger import Ledger
from storage.migrate import upgrade
from storage.schema import DeliveryPart
from tests.cli import run_cli
from tests.conftest import AUGUST, august

PARTNERSHIP = "turin-gwangju"
CHATS = (9001, 9002, 9003)
BEFORE_VISIT = datetime(2024, 8, 20, tzinfo=UTC)
# A minute after 07:30 in Gwangju on day 1: the morning digest is due.
DUE = datetime(2024, 8, 25, 22, 31, tzinfo=UTC)
# Small enough that the morning digest is several messages, as a long one is at 4096.
TINY_LIMIT = 200


@dataclass
class PartTwoTelegram(FakeTelegram):
    """Answers each chat's tries at the message `second` with `script`, in turn (the last
    answer for good when `forever`), then takes it."""

    second: str = ""
    script: list[Json] = field(default_factory=list)
    forever: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        self.tries: dict[int, int] = defaultdict(int)

    def _methods(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        methods = super()._methods()
        send = methods["sendmessage"]

        def faulty_send(params: dict[str, Any]) -> Any:
            if params.get("text") == self.second:
                tried = self.tries[params["chat_id"]]
                self.tries[params["chat_id"]] += 1
                if tried < len(self.script):
                    return self.script[tried]
                if self.forever:
                    return self.script[-1]
            return send(params)

        methods["sendmessage"] = faulty_send
        return methods


@pytest.fixture(autouse=True)
def tiny_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(DIALECTS, "telegram", replace(TELEGRAM, limit=TINY_LIMIT))


@pytest.fixture
async def fake() -> AsyncIterator[PartTwoTelegram]:
    server = PartTwoTelegram()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'briefings.sqlite3'}")
    upgrade(engine)
    yield engine  # type: ignore[misc]
    engine.dispose()


def _parts(seeds: Seeds) -> list[str]:
    """The morning digest of day 1 as Telegram messages, as every subscriber gets it."""
    digest = Digest(AUGUST, "morning", date(2024, 8, 26))
    visit = august(seeds)
    at = due_at(digest, time(7, 30), visit.timezone)
    reply = digest_reply(digest, visit, seeds.partnership_of(visit), seeds.articles, "en", at=at)
    return [m.text for m in Renderer().render(reply, "telegram")]


def _subscribe_all(engine: Engine, seeds: Seeds) -> SqlChatStates:
    states = SqlChatStates(engine)
    plan = digests(august(seeds))
    for chat in CHATS:
        subscription = Subscription(PARTNERSHIP, time(7, 30), "Asia/Seoul")
        states.subscribe(ChatRef("telegram", str(chat)), subscription, plan, BEFORE_VISIT)
    return states


async def _deliver_until_done(
    fake: FakeTelegram, engine: Engine, seeds: Seeds, states: SqlChatStates
) -> Ledger:
    """Runs the dispatcher as the scheduler would, the clock moving 10 minutes between runs
    (past every back-off), until nothing is left to send."""
    now = [DUE]

    async def no_wait(_: float) -> None:
        return None

    library = Library(seeds)
    ledger = Ledger(engine, "parts")
    async with Bot(DEFAULT_TOKEN, base_url=f"{fake.base_url}/bot") as bot:
        conversation = Conversation(library, states, lambda: now[0])
        sender = TelegramDigestSender(TelegramSender(bot, sleep=no_wait), Renderer(), conversation)
        dispatcher = Dispatcher(
            ledger, library, {"telegram": sender}, lambda: now[0], DeliveryPolicy()
        )
        for _ in range(12):
            await dispatcher.run_once(now[0])
            if "sending" not in ledger.counts() and not _due(ledger, now[0]):
                break
            now[0] += timedelta(minutes=10)
    return ledger


def _due(ledger: Ledger, now: datetime) -> bool:
    return any(r.due_at <= now for r in ledger.upcoming(now - timedelta(days=1)))


def _received(fake: FakeTelegram) -> dict[int, list[str]]:
    received: dict[int, list[str]] = defaultdict(list)
    for params in fake.sent():
        received[params["chat_id"]].append(params["text"])
    return received


async def test_part_two_failing_five_times_then_passing_sends_each_part_once(
    fake: PartTwoTelegram, engine: Engine, seeds: Seeds
) -> None:
    parts = _parts(seeds)
    assert len(parts) >= 3, "the digest did not split: nothing tested"
    fake.second = parts[1]
    # Each chat's part 2: a flood wait longer than the sender waits, then a run of five 500s
    # (one send's every retry), then it passes.
    fake.script = [too_many_requests(120), *[server_error()] * 5]
    ledger = await _deliver_until_done(fake, engine, seeds, _subscribe_all(engine, seeds))

    received = _received(fake)
    assert {chat: received[chat] for chat in CHATS} == dict.fromkeys(CHATS, parts)
    assert all(fake.tries[chat] == 7 for chat in CHATS)  # the faults were all met
    mornings = [r for r in ledger.recent(50) if r.digest_key.endswith("morning:2024-08-26")]
    assert [(r.status, r.attempts) for r in mornings] == [("sent", 3)] * len(CHATS)


async def test_part_two_refused_for_good_sends_part_one_once_and_says_so(
    fake: PartTwoTelegram, engine: Engine, seeds: Seeds, tmp_path: Path
) -> None:
    parts = _parts(seeds)
    assert len(parts) >= 3, "the digest did not split: nothing tested"
    fake.second = parts[1]
    fake.script = [error(400, "Bad Request: message is too long")]
    fake.forever = True
    states = _subscribe_all(engine, seeds)
    ledger = await _deliver_until_done(fake, engine, seeds, states)

    received = _received(fake)
    assert {chat: received[chat] for chat in CHATS} == dict.fromkeys(CHATS, parts[:1])
    # Refused once per chat: a 400 is not tried again, by the sender or the dispatcher.
    assert all(fake.tries[chat] == 1 for chat in CHATS)
    mornings = [r for r in ledger.recent(50) if r.digest_key.endswith("morning:2024-08-26")]
    assert [(r.status, r.attempts) for r in mornings] == [("rejected", 1)] * len(CHATS)
    assert all(f"part 2 of {len(parts)}" in (r.detail or "") for r in mornings)
    assert all("message is too long" in (r.detail or "").lower() for r in mornings)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(DeliveryPart)) == len(CHATS)

    # `briefing-bot deliveries` shows it.
    shown = run_cli(
        "deliveries",
        cwd=tmp_path,
        env={"BRIEFINGS_DATABASE_URL": str(engine.url.render_as_string(hide_password=False))},
    )
    assert shown.returncode == 0, shown.stderr
    assert "rejected 3" in shown.stdout.splitlines()[0]
    assert shown.stdout.lower().count("message is too long") == len(CHATS)

    # `/subscriptions` tells the chat, in its language.
    conversation = Conversation(Library(seeds), states, lambda: DUE + timedelta(hours=1))
    said: dict[str, str] = {}
    for lang, chat in zip(("en", "it", "ko"), CHATS, strict=True):
        states.set_lang(ChatRef("telegram", str(chat)), lang)  # type: ignore[arg-type]
        answer = await conversation.handle(
            Incoming(ChatRef("telegram", str(chat)), text="/subscriptions")
        )
        said[lang] = "\n".join(m.text for m in Renderer().render(answer.reply, "plain"))
    assert "could not be delivered here: the chat platform refused it" in said["en"]
    assert "non è stato consegnato qui" in said["it"]
    assert "전달 실패" in said["ko"]
    assert all("Morning programme" in said["en"] for _ in said)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'at-0003.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def test_0004_carries_a_0003_ledger_forward_and_back(database_url: str) -> None:
    from sqlalchemy import text

    from storage.migrate import downgrade

    engine = make_engine(database_url)
    try:
        upgrade(engine, "0003")
        morning = f"{AUGUST}:morning:2024-08-26"
        with engine.begin() as connection:
            connection.execute(
                text("insert into chats (platform, chat_key, lang) values ('telegram', '7', 'it')")
            )
            connection.execute(
                text(
                    "insert into subscriptions (chat_id, partnership_id, local_time, timezone)"
                    " values (1, :p, '07:30', 'Asia/Seoul')"
                ),
                {"p": PARTNERSHIP},
            )
            for key, status, owner in [
                (f"{AUGUST}:eve:2024-08-25", "sent", None),
                (morning, "sending", "old-release:123"),  # in flight when it stopped
            ]:
                connection.execute(
                    text(
                        "insert into deliveries"
                        " (subscription_id, digest_key, due_at, status, owner, attempts)"
                        " values (1, :k, :due, :s, :o, 1)"
                    ),
                    {"k": key, "due": DUE, "s": status, "o": owner},
                )
        upgrade(engine)
        ledger = Ledger(engine, "new-release")
        assert ledger.counts() == {"sent": 1, "sending": 1}
        # The old owner has no lease: its row goes back to the queue, nothing sent of it yet.
        assert ledger.recover() == 1
        [claimed] = ledger.claim(DUE, 10)
        assert (claimed.digest_key, claimed.parts_sent, claimed.recipient.lang) == (
            morning,
            0,
            "it",
        )
        from briefings.ports import PartSent, Settled

        ledger.settle([PartSent(claimed.delivery_id, 0, DUE)])
        ledger.settle([Settled(claimed.delivery_id, "rejected", DUE, "part 2 of 2: too long")])
        problem = SqlChatStates(engine).state(ChatRef("telegram", "7")).problem
        assert problem is not None
        assert (problem.digest_key, problem.status) == (morning, "rejected")
        downgrade(engine, "0003")
        with engine.connect() as connection:
            statuses = connection.scalars(text("select status from deliveries order by id")).all()
        assert statuses == ["sent", "failed"]
        upgrade(engine)
        assert Ledger(engine, "again").counts() == {"sent": 1, "failed": 1}
    finally:
        engine.dispose()
