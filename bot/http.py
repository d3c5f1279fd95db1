"""The one HTTP server: Telegram webhook, Slack events and /healthz share a host and port.

At shutdown it is the first to stop taking work and the last to close: from `quiesce()` on, a
POST (an update, an event) gets 503, which Telegram and Slack meet by sending it again later,
while the POSTs already inside are let finish; so every update answered 200 was handed over
before the adapters stop, and the adapters answer what they were handed.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Whether the database answers now; `/healthz` says 503 when it does not.
HealthCheck = Callable[[], Awaitable[bool]]
# How long quiesce() waits for POSTs already inside.
QUIESCE_SECONDS = 10.0
RETRY_LATER = {"Retry-After": "1"}


class HttpServer:
    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._app = web.Application(middlewares=[self._gate])
        self._refusing = False
        self._inside = 0  # POSTs being handled
        self._none_inside = asyncio.Event()
        self._none_inside.set()
        self._app.router.add_get("/healthz", self._health)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        # Paths adapters mounted: the server is only worth starting when there is one.
        self.routes: list[str] = []
        # Set by the composition root; None reports only that the process serves HTTP.
        self.health: HealthCheck | None = None

    def add_post(self, path: str, handler: Route) -> None:
        self._app.router.add_post(path, handler)
        self.routes.append(path)

    def add_get(self, path: str, handler: Route) -> None:
        """A GET (and HEAD) route: the published book and calendar feed."""
        self._app.router.add_get(path, handler)
        self.routes.append(path)

    async def quiesce(self) -> None:
        """Refuse every new POST with 503 from now on; return once those inside are done."""
        self._refusing = True
        try:
            await asyncio.wait_for(self._none_inside.wait(), QUIESCE_SECONDS)
        except TimeoutError:
            log.error("%d requests still open after %.0f s", self._inside, QUIESCE_SECONDS)

    @web.middleware
    async def _gate(self, request: web.Request, handler: Route) -> web.StreamResponse:
        if request.method != "POST":
            return await handler(request)
        if self._refusing:
            return web.Response(status=503, headers=RETRY_LATER)
        self._inside += 1
        self._none_inside.clear()
        try:
            return await handler(request)
        finally:
            self._inside -= 1
            if self._inside == 0:
                self._none_inside.set()

    async def _health(self, request: web.Request) -> web.Response:
        """200 while the bot can do its work; 503 when the database is unreachable, so a load
        balancer or orchestrator sees the outage that users see."""
        if self.health is None:
            return web.json_response({"status": "ok"})
        try:
            database = await self.health()
        except Exception as exc:  # a probe that breaks says no more than "unreachable"
            log.warning("the database health check failed: %s", exc)
            database = False
        if not database:
            return web.json_response(
                {"status": "unavailable", "database": "unreachable"}, status=503
            )
        return web.json_response({"status": "ok", "database": "ok"})

    async def start(self) -> None:
        self._runner = web.AppRunner(self._app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        log.info("HTTP server listening on %s:%s", self._host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
