"""Why `briefing-bot run` could not start, in one line an operator can act on.

A start-up failure is an operator's problem (a wrong token, an address that does not answer, a
database file that is not one), not a bug: a traceback hides the cause under library frames and
has printed the bot token in clear (PTB's `InvalidToken` quotes it). Each known failure becomes
`StartupFailed` with one line naming what failed and what to do; every line is masked.
"""

import errno
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.redaction import mask


class StartupFailed(Exception):
    """`briefing-bot run` cannot start; `str()` is the one line to print."""

    def __init__(self, reason: str) -> None:
        one_line = " ".join(mask(reason).split())
        super().__init__(one_line)


def database_failed(url: str, exc: BaseException) -> StartupFailed:
    """The database at `url` could not be opened, locked or migrated."""
    from sqlalchemy.exc import DBAPIError

    from storage.engine import DatabaseInUse, sqlite_path

    if isinstance(exc, DatabaseInUse):
        return StartupFailed(
            f"the SQLite database {exc.path} is in use by another briefing-bot ({exc.holder}); "
            "one process serves a SQLite file: stop that one first, or run several processes "
            "on PostgreSQL (BRIEFINGS_DATABASE_URL)"
        )
    cause = _cause(exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc)
    path = sqlite_path(url)
    if path is not None:
        return StartupFailed(
            f"cannot use the SQLite database {path}: {cause}; check BRIEFINGS_DATABASE_URL "
            "(the file must be a briefing-bot database, or absent, in a writable folder)"
        )
    where = make_url(url).render_as_string(hide_password=True)
    return StartupFailed(
        f"cannot use the database {where}: {cause}; check BRIEFINGS_DATABASE_URL and that the "
        "server is running and accepts this user"
    )


def seeds_failed(seeds_dir: Path) -> StartupFailed:
    return StartupFailed(f"the seeds in {seeds_dir} are invalid; run `briefing-bot check`")


def service_failed(
    name: str, exc: BaseException, *, telegram_api: str, slack_api: str, http: str
) -> StartupFailed:
    """A service (Telegram, Slack, the HTTP server) failed in `start()`."""
    import aiohttp
    from slack_sdk.errors import SlackApiError
    from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError

    if isinstance(exc, InvalidToken):
        return StartupFailed(
            f"Telegram rejected TELEGRAM_BOT_TOKEN at {telegram_api} (401 Unauthorized); "
            "copy the bot's token again from @BotFather"
        )
    if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):  # TimedOut too
        return StartupFailed(
            f"cannot reach the Telegram Bot API at {telegram_api} ({exc.message}); "
            "check TELEGRAM_API_URL and the network"
        )
    if isinstance(exc, TelegramError):  # BadRequest (PTB makes it a NetworkError) and others
        return StartupFailed(
            f"Telegram refused to start the bot: {exc.message}; check TELEGRAM_WEBHOOK_URL "
            "and TELEGRAM_WEBHOOK_SECRET"
        )
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error", "error"))
        which = (
            "SLACK_APP_TOKEN"
            if "apps.connections.open" in str(getattr(exc.response, "api_url", ""))
            else "SLACK_BOT_TOKEN"
        )
        return StartupFailed(
            f"Slack rejected {which} ({error}); copy it again from the app's settings at "
            "api.slack.com/apps (bot token under OAuth & Permissions, app token under Basic "
            "Information)"
        )
    if isinstance(exc, aiohttp.ClientError | TimeoutError) and name.startswith("Slack"):
        return StartupFailed(
            f"cannot reach the Slack API at {slack_api} ({_cause(exc)}); check SLACK_API_URL "
            "and the network"
        )
    if isinstance(exc, OSError) and name.startswith("HTTP"):
        hint = {
            errno.EADDRINUSE: "another program listens there",
            errno.EACCES: "ports below 1024 need privileges",
            errno.EADDRNOTAVAIL: "no such address on this machine",
        }.get(exc.errno or 0, _cause(exc))
        return StartupFailed(
            f"cannot listen on {http} ({hint}); set BRIEFINGS_HTTP_HOST and BRIEFINGS_HTTP_PORT"
        )
    return StartupFailed(f"{name} failed to start: {type(exc).__name__}: {_cause(exc)}")


def _cause(exc: BaseException) -> str:
    """The first line of what the library said; its class name when it said nothing."""
    lines = str(exc).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__
