"""What Slack says about a user (`users.info`): their language, and whether they run the workspace.

The locale is remembered for an hour per user so that a conversation costs one lookup, not one
per message; a failed lookup is remembered too, so a missing `users:read` scope does not slow
every reply. Whether someone is an admin is asked afresh each time: the conversation service
asks only when a shared setting would change, and a demoted admin must not keep the right; a
failed question there is an error, not a "no", so the person hears to try again.
"""

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

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
        # Lookups under way: a burst from one user (a few quick commands) waits for the first.
        self._asking: dict[str, asyncio.Future[dict[str, Any] | None]] = {}

    async def locale(self, user_id: str) -> str | None:
        """The user's Slack locale (`it-IT`), or None when Slack would not say."""
        cached = self._known.get(user_id)
        if cached is not None and self._clock() - cached[0] < self._ttl:
            self._known.move_to_end(user_id)
            return cached[1]
        asking = self._asking.get(user_id)
        if asking is None:
            asking = asyncio.ensure_future(self._lookup(user_id))
            self._asking[user_id] = asking
            asking.add_done_callback(lambda _: self._asking.pop(user_id, None))
        user = await asyncio.shield(asking)
        locale = user.get("locale") if user is not None else None
        self._remember(user_id, locale if isinstance(locale, str) else None)
        return self._known[user_id][1]

    async def is_admin(self, user_id: str) -> bool:
        """A workspace admin or owner, by Slack's word. A question Slack did not answer raises:
        the conversation service then refuses and asks the person to try again, which a plain
        "no" would not."""
        user = await self._ask(user_id)
        if user is None:
            raise LookupError(f"users.info said nothing of {user_id}")
        return bool(user.get("is_admin") or user.get("is_owner"))

    def _remember(self, user_id: str, locale: str | None) -> None:
        self._known[user_id] = (self._clock(), locale)
        self._known.move_to_end(user_id)
        while len(self._known) > self._size:
            self._known.popitem(last=False)

    async def _lookup(self, user_id: str) -> dict[str, Any] | None:
        try:
            return await self._ask(user_id)
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            # The answer matters more than its language: the caller falls back.
            log.warning("users.info for %s failed: %s", user_id, exc)
            return None

    async def _ask(self, user_id: str) -> dict[str, Any] | None:
        response = await self._client.users_info(user=user_id, include_locale=True)
        user = response.get("user")
        return user if isinstance(user, dict) else None
