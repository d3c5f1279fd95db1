"""The one HTTP server: Telegram webhook, Slack events and /healthz share a host and port."""

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


class HttpServer:
    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._app = web.Application()
        self._app.router.add_get("/healthz", self._health)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        # Paths adapters mounted: the server is only worth starting when there is one.
        self.routes: list[str] = []

    def add_post(self, path: str, handler: Route) -> None:
        self._app.router.add_post(path, handler)
        self.routes.append(path)

    def add_get(self, path: str, handler: Route) -> None:
        """A GET (and HEAD) route: the published book and calendar feed."""
        self._app.router.add_get(path, handler)
        self.routes.append(path)

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
