"""`briefing-bot run`: wire settings, seeds, store, adapters and the digest scheduler, and run
them on one asyncio loop.

Adapters are initialised and started by hand (never PTB's `run_polling()` or Bolt's
`app.start()`, which take the loop over), and stopped in reverse order on SIGINT or SIGTERM.
"""

import asyncio
import contextlib
import logging
import os
import signal
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.http import HttpServer
    from briefings.conversation import Conversation
    from briefings.delivery import DigestSender
    from briefings.rendering.renderer import Renderer

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


class Service(Protocol):
    """May also have `async quiesce()`: stop taking new work, before any service stops."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


def real_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Wiring:
    """Everything one process runs, in start order."""

    engine: "Engine"
    services: list[tuple[str, Service]] = field(default_factory=list)


@dataclass(frozen=True)
class _Shared:
    settings: Settings
    conversation: "Conversation"
    renderer: "Renderer"
    http: "HttpServer"


def wire(settings: Settings, clock_start: datetime | None, clock_speed: float) -> Wiring:
    from bot.http import HttpServer
    from bot.scheduling import DigestScheduler, SimulatedClock
    from briefings.conversation import Conversation
    from briefings.delivery import DeliveryPolicy, Dispatcher
    from briefings.library import Library
    from briefings.loader import load_seeds
    from briefings.rendering.renderer import Renderer
    from storage.chats import SqlChatStates
    from storage.engine import make_engine
    from storage.ledger import Ledger
    from storage.migrate import upgrade

    library = Library(load_seeds(settings.seeds_dir))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    clock: Clock = SimulatedClock(clock_start, clock_speed) if clock_start else real_clock
    ledger = Ledger(engine, owner=f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")
    conversation = Conversation(
        library, SqlChatStates(engine), clock, default_lang=settings.default_lang
    )
    shared = _Shared(
        settings=settings,
        conversation=conversation,
        renderer=Renderer(),
        http=HttpServer(settings.http_host, settings.http_port),
    )
    wiring = Wiring(engine)
    senders: dict[str, DigestSender] = {}
    if settings.telegram_bot_token is not None:
        _add_telegram(shared, wiring, senders)
    if settings.slack_configured:
        _add_slack(shared, wiring, senders)
    if any(route for route in shared.http.routes):
        wiring.services.insert(
            0, (f"HTTP on {settings.http_host}:{settings.http_port}", shared.http)
        )
    dispatcher = Dispatcher(
        ledger,
        library,
        senders,
        clock,
        DeliveryPolicy(grace=timedelta(minutes=settings.digest_grace_minutes)),
    )
    scheduler = DigestScheduler(
        ledger=ledger,
        dispatcher=dispatcher,
        plans=library.plans,
        clock=clock,
        # A simulated clock runs fast: look often enough that no digest is late by much.
        tick_seconds=(
            settings.digest_tick_seconds if clock_start is None else _simulated_tick(clock_speed)
        ),
    )
    label = "digest scheduler" + (f" (simulated clock, x{clock_speed:g})" if clock_start else "")
    wiring.services.append((label, scheduler))
    return wiring


def _simulated_tick(speed: float) -> float:
    """Real seconds between ticks so that a tick spans at most a simulated minute."""
    return max(0.05, min(0.5, 60 / speed))


def _add_telegram(shared: _Shared, wiring: Wiring, senders: "dict[str, DigestSender]") -> None:
    from bot.telegram.adapter import TelegramAdapter
    from bot.telegram.digests import TelegramDigestSender
    from bot.telegram.sending import TELEGRAM_LIMITS

    settings = shared.settings
    assert settings.telegram_bot_token is not None
    secret = settings.telegram_webhook_secret
    telegram = TelegramAdapter(
        token=settings.telegram_bot_token.get_secret_value(),
        api_url=settings.telegram_api_url,
        conversation=shared.conversation,
        renderer=shared.renderer,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=secret.get_secret_value() if secret else None,
        http=shared.http if settings.telegram_webhook_url else None,
        send_rate=settings.telegram_send_rate,
        limits=TELEGRAM_LIMITS.scaled(settings.telegram_pacing_scale),
    )
    wiring.services.append((f"Telegram ({telegram.mode})", telegram))
    senders["telegram"] = TelegramDigestSender(
        telegram.sender, shared.renderer, shared.conversation
    )


def _add_slack(shared: _Shared, wiring: Wiring, senders: "dict[str, DigestSender]") -> None:
    from bot.slack.adapter import SlackAdapter
    from bot.slack.digests import SlackDigestSender

    settings = shared.settings
    assert settings.slack_bot_token is not None
    app_token, signing = settings.slack_app_token, settings.slack_signing_secret
    slack = SlackAdapter(
        bot_token=settings.slack_bot_token.get_secret_value(),
        conversation=shared.conversation,
        renderer=shared.renderer,
        signing_secret=signing.get_secret_value() if signing else None,
        app_token=app_token.get_secret_value() if app_token else None,
        api_url=settings.slack_api_url,
        http=shared.http,
        teams=settings.slack_teams,
    )
    wiring.services.append((f"Slack ({slack.mode})", slack))
    senders["slack"] = SlackDigestSender(slack.client, shared.renderer)


async def serve(
    settings: Settings,
    stop: asyncio.Event | None = None,
    *,
    clock_start: datetime | None = None,
    clock_speed: float = 1.0,
) -> None:
    """Run until `stop` is set (or a signal arrives); every started service is stopped."""
    from bot.redaction import install_redaction

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
    wiring = wire(settings, clock_start, clock_speed)
    stop = stop or asyncio.Event()
    _on_signals(stop.set)
    started: list[tuple[str, Service]] = []
    try:
        for name, service in wiring.services:
            await service.start()
            started.append((name, service))
            print(f"started: {name}", flush=True)
        await stop.wait()
    finally:
        # First every service stops taking work (the HTTP server, started first, refuses new
        # updates with 503 and lets those inside finish); then each stops, in reverse order,
        # finishing what it took, so nothing accepted is lost.
        for name, service in started:
            quiesce = getattr(service, "quiesce", None)
            if quiesce is not None:
                await _quietly(quiesce, name)
        for name, service in reversed(started):
            await _quietly(service.stop, name)
        wiring.engine.dispose()
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
