"""The one HTTP server: Telegram webhook, Slack events and /healthz share a host and port."""

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Whether the database answers now; `/healthz` says 503 when it does not.
HealthCheck = Callable[[], Awaitable[bool]]


class HttpServer:
    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._app = web.Application()
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
