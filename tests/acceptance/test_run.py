"""`briefing-bot run` as an operator runs it: a real process, one loop, clean stops on signals."""

import asyncio
import signal
from pathlib import Path

import pytest

from fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram, private_message, wait_until
from tests.cli import read_until, run_cli, start_cli


async def _start(fake: FakeTelegram, tmp_path: Path) -> asyncio.subprocess.Process:
    env = {
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_API_URL": fake.base_url,
        "BRIEFINGS_DIGEST_TICK_SECONDS": "1",
    }
    return await start_cli("run", cwd=tmp_path, env=env)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_run_serves_telegram_and_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    fake = FakeTelegram()
    await fake.start()
    process = await _start(fake, tmp_path)
    try:
        assert process.stdout is not None
        assert process.stderr is not None
        started = await read_until(process.stdout, "started: digest scheduler")
        assert "started: Telegram (polling)" in started
        fake.queue_update(private_message("/itinerary martedì", language_code="it"))
        await wait_until(fake.sent, timeout=15)
        assert "martedì 27 agosto 2024" in fake.sent()[0]["text"]
        process.send_signal(sig)
        async with asyncio.timeout(20):
            code = await process.wait()
        rest = (await process.stdout.read()).decode()
        logs = (await process.stderr.read()).decode()
        assert code == 0, logs
        assert "stopped" in rest
        assert DEFAULT_TOKEN not in logs
        assert DEFAULT_TOKEN.split(":")[1] not in logs
        assert "Traceback" not in logs
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await fake.close()


def test_run_without_credentials_is_the_console(monkeypatch: pytest.MonkeyPatch) -> None:
    # Credentials in the developer's own environment stay there.
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:bogus-token-from-the-developer-shell")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-bogus")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-bogus")
    result = run_cli("run", input="/itinerary day 1\n")
    assert result.returncode == 0, result.stderr
    assert "started: Telegram" not in result.stdout + result.stderr
    assert "Monday 26 August 2024" in result.stdout
