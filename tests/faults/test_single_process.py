"""The embedded SQLite database serves one `briefing-bot run`: a second process on the same file
refuses to start (it would claim and resend the first one's digests), and a first process that
was SIGKILLed does not block the restart."""

import asyncio
import signal
from pathlib import Path

from fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram
from tests.cli import read_until, start_cli


async def _start(fake: FakeTelegram, cwd: Path, database: Path) -> asyncio.subprocess.Process:
    env = {
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_API_URL": fake.base_url,
        "BRIEFINGS_DATABASE_URL": f"sqlite:///{database}",
    }
    return await start_cli("run", cwd=cwd, env=env)


async def _finish(process: asyncio.subprocess.Process, timeout: float = 30) -> tuple[int, str]:
    """Wait for the process to end; its exit code and standard error."""
    assert process.stderr is not None
    async with asyncio.timeout(timeout):
        err = await process.stderr.read()
        code = await process.wait()
    return code, err.decode()


async def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()


async def test_a_second_process_on_one_sqlite_file_refuses_and_a_killed_one_does_not_block(
    tmp_path: Path,
) -> None:
    fake = FakeTelegram()
    await fake.start()
    database = tmp_path / "shared" / "briefings.sqlite3"
    first_dir, second_dir, third_dir = (tmp_path / n for n in ("first", "second", "third"))
    for folder in (first_dir, second_dir, third_dir):
        folder.mkdir()
    processes: list[asyncio.subprocess.Process] = []
    try:
        first = await _start(fake, first_dir, database)
        processes.append(first)
        assert first.stdout is not None
        assert "started: digest scheduler" in await read_until(
            first.stdout, "started: digest scheduler"
        )

        second = await _start(fake, second_dir, database)
        processes.append(second)
        code, err = await _finish(second)
        assert code != 0, err
        assert "Traceback" not in err
        reason = err.strip().splitlines()[-1]
        assert str(database) in reason
        assert f"pid {first.pid}" in reason
        assert "PostgreSQL" in reason  # what to do when one process is not enough
        assert first.returncode is None  # the first one serves on, undisturbed

        # A process that dies without cleaning up (SIGKILL) leaves its lock file behind; the
        # kernel has dropped the lock itself, so the next start goes ahead.
        first.send_signal(signal.SIGKILL)
        await first.wait()
        third = await _start(fake, third_dir, database)
        processes.append(third)
        assert third.stdout is not None
        started = await read_until(third.stdout, "started: digest scheduler")
        assert "started: digest scheduler" in started, (await _finish(third))[1]
        third.send_signal(signal.SIGTERM)
        code, err = await _finish(third)
        assert code == 0, err
    finally:
        for process in processes:
            await _kill(process)
        await fake.close()
