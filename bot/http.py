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

    def add_post(self, path: str, handler: Route) -> None:
        self._app.router.add_post(path, handler)
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
        return web.json_response({"status": "ok"})

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
