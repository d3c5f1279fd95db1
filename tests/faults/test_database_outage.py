"""A database outage under a running `briefing-bot run`: the bot keeps answering, apologises for
what needs storage, `/healthz` tells the truth, and it recovers by itself when the database is
back.

A real process with the real Telegram adapter (webhook mode, so `/healthz` is served) against the
fake Bot API, on a PostgreSQL database of its own that the test closes to connections (and
terminates every one of the bot's) and then opens again. PostgreSQL rather than SQLite because
a SQLite file cannot be taken away reliably from a running process: open connections keep the
file (moved or deleted) and root ignores permissions.
"""

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from sqlalchemy import Engine, text

from briefings.labels import label
from fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram, private_message, wait_until
from tests.cli import start_cli

SECRET = "webhook-secret-for-the-outage-test"  # noqa: S105 - made up
CHAT = 5001


class Bot:
    """The running process as a user and an operator see it: send a command, read `/healthz`."""

    def __init__(self, fake: FakeTelegram, port: int) -> None:
        self.fake, self.port = fake, port
        self._update_id = 0

    async def say(self, words: str, replies: int | None = 1) -> list[str]:
        """Send `words` from an Italian-speaking user; the texts of the replies it got."""
        before = len(self.fake.sent(CHAT))
        self._update_id += 1
        update = {"update_id": self._update_id, **private_message(words, language_code="it")}
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{self.port}/telegram",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            ) as response,
        ):
            assert response.status == 200
        await wait_until(lambda: len(self.fake.sent(CHAT)) > before, timeout=30)
        # The messages of one reply go out back to back; wait for all those we expect.
        if replies is not None:
            await wait_until(lambda: len(self.fake.sent(CHAT)) >= before + replies, timeout=30)
        return [m["text"] for m in self.fake.sent(CHAT)[before:]]

    async def health(self) -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{self.port}/healthz") as response,
        ):
            return response.status


async def _until(check: Callable[[], Awaitable[bool]], timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.1)


def _close(admin: Engine, name: str) -> None:
    """The database goes away: no new connections, and every open one is cut."""
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )


def _open(admin: Engine, name: str) -> None:
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))


@asynccontextmanager
async def _running(
    fake: FakeTelegram, cwd: Path, database_url: str
) -> AsyncIterator[tuple[Bot, list[str]]]:
    """`briefing-bot run` in webhook mode on `database_url`; the bot and its log lines so far."""
    env = {
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_API_URL": fake.base_url,
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "BRIEFINGS_HTTP_PORT": "0",
        "BRIEFINGS_DATABASE_URL": database_url,
        # The digest scheduler is not under test; its ticks would only add log lines.
        "BRIEFINGS_DIGEST_TICK_SECONDS": "3600",
    }
    process = await start_cli("run", cwd=cwd, env=env)
    log: list[str] = []
    assert process.stdout is not None
    assert process.stderr is not None
    stderr = process.stderr

    async def drain() -> None:  # keep the pipe from filling while the test talks to the bot
        while line := await stderr.readline():
            log.append(line.decode())

    draining = asyncio.create_task(drain())
    try:
        async with asyncio.timeout(30):
            while "started: digest scheduler" not in (await process.stdout.readline()).decode():
                assert process.returncode is None, "".join(log)
        listening = next(m for line in log if (m := re.search(r"listening on [\d.]+:(\d+)", line)))
        yield Bot(fake, int(listening.group(1))), log
        assert process.returncode is None, "".join(log)
    finally:
        if process.returncode is None:
            process.terminate()
            async with asyncio.timeout(30):
                await process.wait()
        await draining


async def test_an_outage_keeps_reading_commands_answered_and_the_bot_recovers(
    tmp_path: Path, postgres_admin: Engine, postgres_url: str
) -> None:
    name = postgres_url.rsplit("/", 1)[1]
    sorry = label("storage_unavailable", "it")
    fake = FakeTelegram()
    await fake.start()
    try:
        async with _running(fake, tmp_path, postgres_url) as (bot, log):
            assert await bot.health() == 200
            subscribed = await bot.say("/subscribe 07:30 Europe/Rome", replies=None)
            assert "Iscrizione effettuata" in subscribed[0]

            _close(postgres_admin, name)
            help_ = await bot.say("/help", replies=None)
            assert "/itinerary" in help_[0]
            assert sorry not in "".join(help_)
            day = await bot.say("/itinerary martedì", replies=None)
            assert "martedì 27 agosto 2024" in day[0]
            assert await bot.health() == 503
            # What needs storage apologises, once each, in the user's language.
            assert await bot.say("/lang ko") == [sorry]
            assert await bot.say("/subscriptions") == [sorry]
            assert await bot.say("/unsubscribe") == [sorry]
            assert await bot.health() == 503

            _open(postgres_admin, name)
            await _until(lambda: _is(bot.health(), 200))
            # No restart: settings are read and written again, and what was saved is there.
            current = await bot.say("/subscriptions", replies=None)
            assert "07:30" in current[0]
            assert sorry not in "".join(current)
            assert await bot.say("/lang ko") == [label("lang_set", "ko")]
            assert not [line for line in log if "Traceback" in line], "".join(log)
    finally:
        _open(postgres_admin, name)
        await fake.close()


async def _is(status: Awaitable[int], expected: int) -> bool:
    return await status == expected
