"""`briefing-bot run`: wire settings, seeds, store, adapters and the digest scheduler, and run
them on one asyncio loop.

Adapters are initialised and started by hand (never PTB's `run_polling()` or Bolt's
`app.start()`, which take the loop over), and stopped in reverse order on SIGINT or SIGTERM.
"""

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from pydantic import SecretStr

from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.http import HealthCheck, HttpServer
    from bot.links import SignedLinks
    from briefings.conversation import Conversation
    from briefings.delivery import DigestSender
    from briefings.library import Library
    from briefings.loader import Seeds
    from briefings.ports import SeenRequests
    from briefings.rendering.renderer import Renderer
    from storage.engine import ProcessLock

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
# Seconds `/healthz` waits for the database before calling it unreachable.
HEALTH_TIMEOUT = 5.0


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
    # Held while the process runs on a SQLite file (see storage/engine.py).
    lock: "ProcessLock | None" = None

    def close(self) -> None:
        self.engine.dispose()
        if self.lock is not None:
            self.lock.release()


@dataclass(frozen=True)
class _Shared:
    settings: Settings
    conversation: "Conversation"
    renderer: "Renderer"
    http: "HttpServer"
    seen: "SeenRequests"


def wire(settings: Settings, clock_start: datetime | None, clock_speed: float) -> Wiring:
    """Build everything, touching nothing outside but the database (opened, locked, migrated).

    Raises `StartupFailed` when the seeds or the database cannot be used.
    """
    from bot.startup import seeds_failed
    from briefings.loader import SeedsInvalid
    from briefings.seed_cache import load_seeds_cached

    try:
        seeds = load_seeds_cached(settings.seeds_dir, settings.cache_dir)
    except SeedsInvalid:
        raise seeds_failed(settings.seeds_dir) from None
    wiring = _open_database(settings.database_url)
    try:
        _wire(settings, clock_start, clock_speed, seeds, wiring)
    except BaseException:
        wiring.close()
        raise
    return wiring


def _open_database(url: str) -> Wiring:
    """The engine, the one-process lock of a SQLite file, and the schema brought up to date."""
    from bot.startup import database_failed
    from storage.engine import make_engine, single_process_lock
    from storage.migrate import upgrade

    engine: Engine | None = None
    lock: ProcessLock | None = None
    try:
        engine = make_engine(url)
        # Before the migrations: a second process must not even migrate a live one's file.
        lock = single_process_lock(url)
        upgrade(engine)
    except Exception as exc:
        # A folder that cannot be made, a file that is not a database, a server that refuses,
        # a file in use: all the operator's to fix, and said so in one line.
        if lock is not None:
            lock.release()
        if engine is not None:
            engine.dispose()
        raise database_failed(url, exc) from None
    return Wiring(engine, lock=lock)


def _wire(
    settings: Settings,
    clock_start: datetime | None,
    clock_speed: float,
    seeds: "Seeds",
    wiring: Wiring,
) -> None:
    from bot.http import HttpServer
    from bot.scheduling import DigestScheduler, SimulatedClock
    from bot.warmup import warm
    from briefings.conversation import Conversation
    from briefings.delivery import DeliveryPolicy, Dispatcher
    from briefings.library import Library
    from briefings.rendering.renderer import Renderer
    from storage.chats import SqlChatStates
    from storage.ledger import Ledger
    from storage.seen import SqlSeenRequests

    library = Library(seeds)
    engine = wiring.engine
    clock: Clock = SimulatedClock(clock_start, clock_speed) if clock_start else real_clock
    ledger = Ledger(engine, owner=f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")
    http = HttpServer(settings.http_host, settings.http_port)
    publisher = _publish(settings, library, http)
    conversation = Conversation(
        library,
        SqlChatStates(engine),
        clock,
        default_lang=settings.default_lang,
        publisher=publisher,
    )
    renderer, seen = Renderer(), SqlSeenRequests(engine)
    # What every update reads, built before the first one rather than during it.
    warm(renderer, seen)
    shared = _Shared(
        settings=settings,
        conversation=conversation,
        renderer=renderer,
        http=http,
        seen=seen,
    )
    shared.http.health = _database_health(engine)
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


def _database_health(engine: "Engine") -> "HealthCheck":
    """`/healthz`'s question, asked off the loop (a connection attempt blocks), with a deadline
    so a database that does not answer at all reads as unreachable rather than hanging."""
    from storage.engine import reachable

    async def check() -> bool:
        try:
            return await asyncio.wait_for(asyncio.to_thread(reachable, engine), HEALTH_TIMEOUT)
        except TimeoutError:
            return False

    return check


def link_secret(settings: Settings) -> str:
    """The secret that signs published links: the configured one, else one for this process."""
    if settings.link_secret is None:
        log.warning(
            "BRIEFINGS_LINK_SECRET is not set: links to the book and calendar feed are signed "
            "with a secret made for this process, and stop working when it stops"
        )
        settings.link_secret = SecretStr(secrets.token_urlsafe(32))
    return settings.link_secret.get_secret_value()


def _publish(settings: Settings, library: "Library", http: "HttpServer") -> "SignedLinks | None":
    """With a public URL, the HTTP server serves the book and the calendar feed, and replies
    to /book and /calendar carry signed links to them."""
    if not settings.public_url:
        return None
    from bot.links import LinkSigner, SignedLinks
    from bot.publishing import Publication

    signer = LinkSigner(link_secret(settings).encode(), settings.link_days)
    # Served by the real clock even when digests replay a simulated one: links expire in
    # real days, and what a page shows is what the sources had published by now.
    Publication(library, signer, real_clock).mount(http)
    return SignedLinks(settings.public_url, signer)


def _simulated_tick(speed: float) -> float:
    """Real seconds between ticks so that a tick spans at most a simulated minute."""
    return max(0.05, min(0.5, 60 / speed))


def _add_telegram(shared: _Shared, wiring: Wiring, senders: "dict[str, DigestSender]") -> None:
    from bot.redaction import install_redaction
    from bot.telegram.adapter import TelegramAdapter
    from bot.telegram.digests import TelegramDigestSender
    from bot.telegram.sending import TELEGRAM_LIMITS

    settings = shared.settings
    assert settings.telegram_bot_token is not None
    given = settings.telegram_webhook_secret
    secret = given.get_secret_value() if given else None
    if secret is None and settings.telegram_webhook_url:
        # Made here rather than in the adapter, so it is masked like any other secret.
        secret = secrets.token_urlsafe(32)
    install_redaction([secret])
    telegram = TelegramAdapter(
        token=settings.telegram_bot_token.get_secret_value(),
        api_url=settings.telegram_api_url,
        conversation=shared.conversation,
        renderer=shared.renderer,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=secret,
        http=shared.http if settings.telegram_webhook_url else None,
        send_rate=settings.telegram_send_rate,
        seen=shared.seen,
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
        seen=shared.seen,
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
    when_built: Callable[[], None] | None = None,
) -> None:
    """Run until `stop` is set (or a signal arrives); every started service is stopped.
    `when_built` is called once everything is built, before any service starts (the process's
    entry point settles its memory there: `bot.warmup.settle`).

    Raises `StartupFailed` (one line, masked) when a service, the seeds or the database cannot
    be used at start-up.
    """
    from sqlalchemy.engine import make_url

    from bot.redaction import install_redaction
    from bot.startup import StartupFailed, service_failed

    if settings.public_url:
        link_secret(settings)  # made now if unset, so that it is masked like the others
    install_redaction(
        [
            *(
                s.get_secret_value() if s else None
                for s in (
                    settings.telegram_bot_token,
                    settings.telegram_webhook_secret,
                    settings.slack_bot_token,
                    settings.slack_signing_secret,
                    settings.slack_app_token,
                    settings.link_secret,
                )
            ),
            make_url(settings.database_url).password,
        ]
    )
    try:
        wiring = wire(settings, clock_start, clock_speed)
    except StartupFailed:
        raise
    except Exception as exc:  # an adapter that cannot be built from these settings
        raise service_failed("set-up", exc, **_addresses(settings)) from None
    if when_built is not None:
        when_built()
    stop = stop or asyncio.Event()
    _on_signals(stop.set)
    started: list[tuple[str, Service]] = []
    try:
        for name, service in wiring.services:
            try:
                await service.start()
            except Exception as exc:
                raise service_failed(name, exc, **_addresses(settings)) from None
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
        wiring.close()
        print("stopped", flush=True)


def _addresses(settings: Settings) -> dict[str, str]:
    return {
        "telegram_api": settings.telegram_api_url,
        "slack_api": settings.slack_api_url,
        "http": f"{settings.http_host}:{settings.http_port}",
    }


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
