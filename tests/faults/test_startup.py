"""Every start-up failure of `briefing-bot run` ends in one line an operator can act on.

A real process against fakes on 127.0.0.1 that refuse it (401, invalid_auth), addresses where
nothing listens, and databases it cannot use. Each must exit non-zero with one line on stderr
naming what failed and what to do, no traceback, and no secret anywhere it wrote: standard
output, standard error, or any file in its working directory.
"""

import asyncio
import socket
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol, TypeVar

import pytest

from fakes.slack_api import APP_TOKEN, SIGNING_SECRET, FakeSlack
from fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram
from tests.cli import free_port, run_cli

# Tokens the fakes do not know, shaped like real ones: each must never be printed.
BAD_TELEGRAM_TOKEN = "987654:AAF-wrong-token-for-start-up-tests"  # noqa: S105 - made up
BAD_SLACK_TOKEN = "xoxb-wrong-token-for-start-up-tests"  # noqa: S105
BAD_APP_TOKEN = "xapp-wrong-token-for-start-up-tests"  # noqa: S105
DB_PASSWORD = "pg-password-for-start-up-tests"  # noqa: S105


def _run(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`briefing-bot run` in the blocking CLI helper, off the test's event loop (the fakes
    answer on that loop)."""
    return run_cli("run", env={"BRIEFINGS_HTTP_PORT": "0", **env}, cwd=tmp_path, timeout=90)


def _assert_one_line(
    result: subprocess.CompletedProcess[str], tmp_path: Path, *needles: str
) -> str:
    """Non-zero, no traceback, the reason as the last line of stderr; returns that line."""
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "no reason given"
    reason = lines[-1]
    assert reason.startswith("briefing-bot run: "), result.stderr
    # Only this line says why: nothing before it is an error.
    assert not [line for line in lines[:-1] if " ERROR " in line or "CRITICAL" in line], lines
    for needle in needles:
        assert needle in reason, reason
    return reason


def _assert_no_secret(
    result: subprocess.CompletedProcess[str], tmp_path: Path, secrets: list[str]
) -> None:
    written = [result.stdout, result.stderr]
    written += [
        p.read_bytes().decode("utf-8", "replace") for p in tmp_path.rglob("*") if p.is_file()
    ]
    for secret in secrets:
        for part in {secret, *secret.split(":")[1:]}:  # a Telegram token's secret half too
            assert not [text for text in written if part in text], f"{part!r} was written"


class _Served(Protocol):
    async def start(self) -> None: ...
    async def close(self) -> None: ...


F = TypeVar("F", bound=_Served)


@contextmanager
def _in_thread(make: Callable[[], F]) -> Iterator[F]:
    """A fake API on its own loop in a thread, so a blocking `run_cli` can talk to it."""
    import threading

    loop = asyncio.new_event_loop()
    box: list[F] = []
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)

        async def start() -> None:
            fake = make()
            await fake.start()
            box.append(fake)

        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield box[0]
    finally:
        asyncio.run_coroutine_threadsafe(box[0].close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _fake_telegram_in_thread() -> AbstractContextManager[FakeTelegram]:
    return _in_thread(FakeTelegram)


def _fake_slack_in_thread() -> AbstractContextManager[FakeSlack]:
    return _in_thread(FakeSlack)


def test_a_rejected_telegram_token_is_one_line_without_the_token(tmp_path: Path) -> None:
    with _fake_telegram_in_thread() as fake:
        result = _run(
            tmp_path, {"TELEGRAM_BOT_TOKEN": BAD_TELEGRAM_TOKEN, "TELEGRAM_API_URL": fake.base_url}
        )
        assert [c.method for c in fake.calls] == ["getMe"]  # it asked, and was told 401
    _assert_one_line(result, tmp_path, "TELEGRAM_BOT_TOKEN", "@BotFather")
    _assert_no_secret(result, tmp_path, [BAD_TELEGRAM_TOKEN])


def test_an_unreachable_telegram_api_is_one_line(tmp_path: Path) -> None:
    api = f"http://127.0.0.1:{free_port()}"
    result = _run(tmp_path, {"TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN, "TELEGRAM_API_URL": api})
    _assert_one_line(result, tmp_path, api, "TELEGRAM_API_URL")
    _assert_no_secret(result, tmp_path, [DEFAULT_TOKEN])


def test_a_refused_webhook_is_one_line_and_the_generated_secret_is_masked(
    tmp_path: Path,
) -> None:
    from fakes.telegram_api import error

    with _fake_telegram_in_thread() as fake:
        fake.fail("setWebhook", error(400, "Bad Request: bad webhook: HTTPS url must be provided"))
        result = _run(
            tmp_path,
            {
                "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
                "TELEGRAM_API_URL": fake.base_url,
                "TELEGRAM_WEBHOOK_URL": "http://127.0.0.1/telegram",
            },
        )
        generated = fake.requests("setWebhook")[0].params["secret_token"]
    _assert_one_line(result, tmp_path, "Bad webhook", "TELEGRAM_WEBHOOK_URL")
    _assert_no_secret(result, tmp_path, [DEFAULT_TOKEN, generated])


@pytest.mark.parametrize("which", ["bot", "app"])
def test_a_rejected_slack_token_is_one_line_naming_it(tmp_path: Path, which: str) -> None:
    with _fake_slack_in_thread() as fake:
        env = {"SLACK_API_URL": fake.api_url}
        if which == "bot":
            env |= {"SLACK_BOT_TOKEN": BAD_SLACK_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
        else:
            from fakes.slack_api import BOT_TOKEN

            env |= {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": BAD_APP_TOKEN}
        result = _run(tmp_path, env)
    named = "SLACK_BOT_TOKEN" if which == "bot" else "SLACK_APP_TOKEN"
    _assert_one_line(result, tmp_path, named, "invalid_auth")
    _assert_no_secret(result, tmp_path, [BAD_SLACK_TOKEN, BAD_APP_TOKEN, SIGNING_SECRET])


def test_an_unreachable_slack_api_is_one_line(tmp_path: Path) -> None:
    api = f"http://127.0.0.1:{free_port()}/api/"
    env = {"SLACK_BOT_TOKEN": BAD_SLACK_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": api}
    result = _run(tmp_path, env)
    _assert_one_line(result, tmp_path, api, "SLACK_API_URL")
    _assert_no_secret(result, tmp_path, [BAD_SLACK_TOKEN, APP_TOKEN])


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    database = tmp_path / "briefings.sqlite3"
    database.write_bytes(b"this is a text file, not a SQLite database\n" * 100)
    result = _run(tmp_path, {"TELEGRAM_BOT_TOKEN": BAD_TELEGRAM_TOKEN})
    _assert_one_line(result, tmp_path, str(database), "BRIEFINGS_DATABASE_URL")
    _assert_no_secret(result, tmp_path, [BAD_TELEGRAM_TOKEN])


def test_a_database_folder_that_cannot_exist_is_named(tmp_path: Path) -> None:
    (tmp_path / "var").write_text("a file where the database's folder should be\n")
    database = tmp_path / "var" / "briefings.sqlite3"
    env = {
        "TELEGRAM_BOT_TOKEN": BAD_TELEGRAM_TOKEN,
        "BRIEFINGS_DATABASE_URL": f"sqlite:///{database}",
    }
    result = _run(tmp_path, env)
    _assert_one_line(result, tmp_path, str(database), "BRIEFINGS_DATABASE_URL")
    _assert_no_secret(result, tmp_path, [BAD_TELEGRAM_TOKEN])


def test_a_refused_postgresql_connection_is_one_line_without_the_password(
    tmp_path: Path,
) -> None:
    pytest.importorskip("psycopg", reason="the postgres extra is not installed")
    port = free_port()
    url = f"postgresql+psycopg://briefings:{DB_PASSWORD}@127.0.0.1:{port}/briefings"
    env = {"TELEGRAM_BOT_TOKEN": BAD_TELEGRAM_TOKEN, "BRIEFINGS_DATABASE_URL": url}
    result = _run(tmp_path, env)
    _assert_one_line(result, tmp_path, f"127.0.0.1:{port}", "BRIEFINGS_DATABASE_URL")
    _assert_no_secret(result, tmp_path, [BAD_TELEGRAM_TOKEN, DB_PASSWORD])


def test_an_http_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with _fake_telegram_in_thread() as fake:
            result = _run(
                tmp_path,
                {
                    "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
                    "TELEGRAM_API_URL": fake.base_url,
                    "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram",
                    "TELEGRAM_WEBHOOK_SECRET": "webhook-secret-for-start-up-tests",
                    "BRIEFINGS_HTTP_PORT": str(port),
                },
            )
    _assert_one_line(result, tmp_path, f"127.0.0.1:{port}", "BRIEFINGS_HTTP_PORT")
    _assert_no_secret(result, tmp_path, [DEFAULT_TOKEN, "webhook-secret-for-start-up-tests"])
