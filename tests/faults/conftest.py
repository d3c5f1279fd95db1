"""Shared by the fault tests: a fake Bot API (optionally enforcing Telegram's flood limits) and
real TelegramAdapters pointed at it, with a SQLite file of their own."""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.http import HttpServer
from bot.telegram.adapter import TelegramAdapter
from bot.telegram.sending import TELEGRAM_LIMITS, RetryPolicy
from briefings.conversation import Conversation
from briefings.library import Library
from briefings.rendering.renderer import Renderer
from fakes.telegram_api import FakeTelegram
from storage.chats import SqlChatStates
from storage.engine import make_engine
from storage.migrate import upgrade
from tests.dialogue import NOW

# The fault suite reaches PostgreSQL as the storage tests do: the same fixtures.
from tests.storage.conftest import postgres_admin, postgres_url

__all__ = ["postgres_admin", "postgres_url"]

# Telegram's pacing at 1/20 of its intervals on both sides: fast enough for a test, slow
# enough that a reply out of pace stands out.
SCALE = 0.05
LIMITS = TELEGRAM_LIMITS.scaled(SCALE)
# Waits out a 429 of 20 s rather than drop the message.
POLICY = RetryPolicy(attempts=3, first_backoff=0.01, max_backoff=0.05, max_retry_after=60.0)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = make_engine(f"sqlite:///{tmp_path / 'briefings.db'}")
    upgrade(made)
    yield made
    made.dispose()


@pytest.fixture
def conversation(library: Library, engine: Engine) -> Conversation:
    return Conversation(library, SqlChatStates(engine), lambda: NOW)


class Adapters:
    """Starts TelegramAdapters (polling, with the test's pace) and stops every one it started."""

    def __init__(self, conversation: Conversation, renderer: Renderer) -> None:
        self.conversation, self.renderer = conversation, renderer
        self.running: list[TelegramAdapter] = []

    async def start(self, fake: FakeTelegram, **overrides: Any) -> TelegramAdapter:
        settings: dict[str, Any] = {
            "token": fake.token,
            "api_url": fake.base_url,
            "conversation": self.conversation,
            "renderer": self.renderer,
            "retry": POLICY,
            "poll_timeout": 0.5,
            "limits": LIMITS,
        }
        adapter = TelegramAdapter(**{**settings, **overrides})
        self.running.append(adapter)
        await adapter.start()
        return adapter


@pytest.fixture
async def adapters(conversation: Conversation, renderer: Renderer) -> AsyncIterator[Adapters]:
    made = Adapters(conversation, renderer)
    yield made
    for adapter in reversed(made.running):
        await adapter.stop()


@pytest.fixture
async def fake_telegram() -> AsyncIterator[Callable[..., Awaitable[FakeTelegram]]]:
    """Starts fake Bot APIs (`FakeTelegram(**kwargs)`), closed at teardown."""
    started: list[FakeTelegram] = []

    async def start(**kwargs: Any) -> FakeTelegram:
        fake = FakeTelegram(**kwargs)
        await fake.start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        await fake.close()


WEBHOOK_SECRET = "webhook-secret"  # noqa: S105 - the tests' own


@dataclass(frozen=True)
class Webhook:
    """A TelegramAdapter in webhook mode behind its HTTP server, answering to `fake`."""

    fake: FakeTelegram
    adapter: TelegramAdapter
    url: str


@asynccontextmanager
async def webhook(
    conversation: Conversation, renderer: Renderer, **overrides: Any
) -> AsyncIterator[Webhook]:
    """Started unpaced (`overrides` change any setting); stopped as `briefing-bot run` stops
    it: the server quiesces first, then the adapter finishes what it took."""
    fake = FakeTelegram()
    await fake.start()
    http = HttpServer("127.0.0.1", 0)
    settings: dict[str, Any] = {
        "token": fake.token,
        "api_url": fake.base_url,
        "conversation": conversation,
        "renderer": renderer,
        "webhook_url": "https://bot.example.org/telegram",
        "webhook_secret": WEBHOOK_SECRET,
        "http": http,
        "send_rate": None,
        "limits": None,
    }
    adapter = TelegramAdapter(**{**settings, **overrides})
    try:
        await http.start()
        await adapter.start()
        yield Webhook(fake, adapter, f"http://127.0.0.1:{http.port}/telegram")
    finally:
        await http.quiesce()
        await adapter.stop()
        await http.stop()
        await fake.close()
