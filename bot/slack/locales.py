"""Slack users' languages, as Slack knows them (`users.info` with `include_locale`).

Remembered for an hour per user so that a conversation costs one lookup, not one per message;
a failed lookup is remembered too, so a missing `users:read` scope does not slow every reply.
"""

import logging
import time
from collections import OrderedDict
from collections.abc import Callable

import aiohttp
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


class Locales:
    def __init__(
        self,
        client: AsyncWebClient,
        ttl: float = 3600.0,
        size: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._known: OrderedDict[str, tuple[float, str | None]] = OrderedDict()

    async def locale(self, user_id: str) -> str | None:
        """The user's Slack locale (`it-IT`), or None when Slack would not say."""
        now = self._clock()
        cached = self._known.get(user_id)
        if cached is not None and now - cached[0] < self._ttl:
            self._known.move_to_end(user_id)
            return cached[1]
        value = await self._lookup(user_id)
        self._known[user_id] = (now, value)
        self._known.move_to_end(user_id)
        while len(self._known) > self._size:
            self._known.popitem(last=False)
        return value

    async def _lookup(self, user_id: str) -> str | None:
        try:
            response = await self._client.users_info(user=user_id, include_locale=True)
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            # The answer matters more than its language: fall back to the default.
            log.warning("users.info for %s failed: %s", user_id, exc)
            return None
        user = response.get("user") or {}
        locale = user.get("locale") if isinstance(user, dict) else None
        return locale if isinstance(locale, str) else None
