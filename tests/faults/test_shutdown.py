"""Defect 7: webhook updates lost at shutdown. `briefing-bot run` in webhook mode takes a
stream of updates and is sent SIGTERM mid-stream: every update it answered 200 must have been
answered in its chat, and every other one refused with 503 (Telegram then sends it again)."""

import asyncio
import re
import signal
from pathlib import Path

import aiohttp

from bot.telegram.adapter import SECRET_HEADER
from fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram, private_message
from tests.cli import start_cli

SECRET = "webhook-secret-for-the-shutdown-test"  # noqa: S105 - a test value
FIRST_CHAT = 7000
BEFORE_SIGNAL = 60  # updates answered before SIGTERM
IN_FLIGHT = 8  # POSTs open at once, as Telegram keeps several connections
LISTENING = re.compile(r"HTTP server listening on 127\.0\.0\.1:(\d+)")


async def test_sigterm_mid_stream_answers_every_update_it_accepted(tmp_path: Path) -> None:
    fake = FakeTelegram()
    await fake.start()
    env = {
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_API_URL": fake.base_url,
        "TELEGRAM_WEBHOOK_URL": "https://briefings.example.org/telegram",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_PACING_SCALE": "0.01",
        # Test-speed pacing overall too: the production 25 a second would spend a minute
        # answering what the stream got in before the signal.
        "TELEGRAM_SEND_RATE": "2000",
        "BRIEFINGS_HTTP_PORT": "0",
        "BRIEFINGS_DIGEST_TICK_SECONDS": "1",
    }
    process = await start_cli("run", cwd=tmp_path, env=env)
    logs: list[str] = []
    try:
        assert process.stdout is not None
        assert process.stderr is not None
        port = await _port(process.stderr, logs)
        drain = asyncio.create_task(_collect(process.stderr, logs))
        statuses = await _stream(f"http://127.0.0.1:{port}/telegram", process)
        async with asyncio.timeout(60):
            code = await process.wait()
        await drain
        assert code == 0, "".join(logs)
        accepted = [chat for chat, status in statuses.items() if status == 200]
        refused = [chat for chat, status in statuses.items() if status != 200]
        assert len(accepted) >= BEFORE_SIGNAL
        assert refused, "the stream went on until the server was gone"
        unanswered = [chat for chat in accepted if not fake.sent(chat)]
        assert unanswered == [], f"answered 200 but never handled: {len(unanswered)}"
        # Refused with 503 while stopping, or not reached at all once it was gone.
        assert {statuses[chat] for chat in refused} <= {503, 0}
        assert "Traceback" not in "".join(logs)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await fake.close()


async def _port(stderr: asyncio.StreamReader, logs: list[str]) -> int:
    async with asyncio.timeout(30):
        while True:
            line = (await stderr.readline()).decode()
            if not line:
                raise AssertionError("the bot exited before listening:\n" + "".join(logs))
            logs.append(line)
            if found := LISTENING.search(line):
                return int(found.group(1))


async def _collect(stderr: asyncio.StreamReader, logs: list[str]) -> None:
    while line := await stderr.readline():
        logs.append(line.decode())


async def _stream(url: str, process: asyncio.subprocess.Process) -> dict[int, int]:
    """POST one update per chat until the server is gone; SIGTERM after BEFORE_SIGNAL were
    answered 200. Each chat's status: the HTTP status, or 0 when the server was not there."""
    statuses: dict[int, int] = {}
    chats = iter(range(FIRST_CHAT, FIRST_CHAT + 100_000))
    gone = asyncio.Event()
    signalled = False

    async def post(session: aiohttp.ClientSession) -> None:
        nonlocal signalled
        while not gone.is_set():
            chat = next(chats)
            update = {"update_id": chat, **private_message("/help", chat_id=chat)}
            try:
                async with session.post(
                    url, json=update, headers={SECRET_HEADER: SECRET}
                ) as response:
                    statuses[chat] = response.status
            except aiohttp.ClientError:
                statuses[chat] = 0
                gone.set()
                return
            ok = sum(1 for status in statuses.values() if status == 200)
            if ok >= BEFORE_SIGNAL and not signalled:
                signalled = True
                process.send_signal(signal.SIGTERM)

    async with asyncio.timeout(90):
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=IN_FLIGHT, force_close=True)
        ) as session:
            await asyncio.gather(*(post(session) for _ in range(IN_FLIGHT)))
    return statuses
