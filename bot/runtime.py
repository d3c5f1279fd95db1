"""`briefing-bot run`: wire settings, seeds, store and adapters, and run them on one loop.

Adapters are initialised and started by hand (never PTB's `run_polling()` or Bolt's
`app.start()`, which take the loop over), and stopped in reverse order on SIGINT or SIGTERM.
"""

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

from bot.settings import Settings

log = logging.getLogger(__name__)


class Service(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


def real_clock() -> datetime:
    return datetime.now(UTC)


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or a signal arrives); every started service is stopped."""
    from bot.http import HttpServer
    from bot.redaction import install_redaction
    from briefings.commands import Briefing
    from briefings.loader import load_seeds
    from briefings.rendering import Renderer
    from briefings.storage.chats import ChatStore
    from briefings.storage.engine import make_engine
    from briefings.storage.migrate import upgrade

    install_redaction(
        s.get_secret_value() if s else None
        for s in (
            settings.telegram_bot_token,
            settings.telegram_webhook_secret,
            settings.slack_bot_token,
            settings.slack_signing_secret,
            settings.slack_app_token,
        )
    )
    seeds = load_seeds(settings.seeds_dir)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    store = ChatStore(engine)
    briefing = Briefing(seeds.visit, seeds.articles)
    renderer = Renderer()
    http = HttpServer(settings.http_host, settings.http_port)
    needs_http = bool(settings.telegram_configured and settings.telegram_webhook_url)

    services: list[tuple[str, Service]] = []
    if settings.telegram_bot_token is not None:
        from bot.telegram.adapter import TelegramAdapter

        telegram = TelegramAdapter(
            token=settings.telegram_bot_token.get_secret_value(),
            api_url=settings.telegram_api_url,
            briefing=briefing,
            renderer=renderer,
            store=store,
            clock=real_clock,
            default_lang=settings.default_lang,
            webhook_url=settings.telegram_webhook_url,
            webhook_secret=(
                settings.telegram_webhook_secret.get_secret_value()
                if settings.telegram_webhook_secret
                else None
            ),
            http=http if settings.telegram_webhook_url else None,
        )
        services.append((f"Telegram ({telegram.mode})", telegram))
    if needs_http:
        services.insert(0, (f"HTTP on {settings.http_host}:{settings.http_port}", http))

    stop = stop or asyncio.Event()
    _on_signals(stop.set)
    started: list[tuple[str, Service]] = []
    try:
        for name, service in services:
            await service.start()
            started.append((name, service))
            print(f"started: {name}", flush=True)
        if settings.slack_configured:
            print("Slack credentials are set, but the Slack adapter is not built yet", flush=True)
        await stop.wait()
    finally:
        for name, service in reversed(started):
            await _quietly(service.stop, name)
        engine.dispose()
        print("stopped", flush=True)


def _on_signals(callback: Callable[[], None]) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not possible outside the main thread (as in some tests): the caller sets `stop`.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, callback)


async def _quietly(stop: Callable[[], Awaitable[None]], name: str) -> None:
    try:
        await stop()
    except Exception:
        log.exception("stopping %s failed", name)
