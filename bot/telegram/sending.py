"""Deliver a message to Telegram despite flood limits, outages and chats that moved or left.

Policy: 429 waits as long as Telegram asks and tries again; 5xx and network errors back off and
try again; a group that became a supergroup is followed to its new id; an HTML parse error (which
rendering should make impossible) is logged and the message goes out as plain text.

The sender keeps no state about chats: it says what happened (`Sent`), and its caller tells the
conversation service about a chat that blocked the bot or moved.
"""

import asyncio
import base64
import html
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from telegram import Bot, InlineKeyboardMarkup, InputFile, LinkPreviewOptions
from telegram import Message as TelegramMessage
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter

log = logging.getLogger(__name__)
PLATFORM = "telegram"
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5
    first_backoff: float = 0.5
    max_backoff: float = 8.0
    # Never wait longer than this for a 429, whatever Telegram asks; the message is then dropped.
    max_retry_after: float = 60.0


Call = Callable[[dict[str, Any]], Awaitable[object]]
SendStatus = Literal["sent", "blocked", "failed", "rejected"]


@dataclass(frozen=True, slots=True)
class Sent:
    """What became of one request: `sent` (with the message, for a send), `blocked` (the chat
    blocked or removed the bot: 403), `rejected` (a 400: the same request would be refused
    again) or `failed` (worth trying later); and, either way, the chat's new id when it turned
    out to have moved (a group that became a supergroup), and Telegram's words when it failed."""

    status: SendStatus
    message: TelegramMessage | None = None
    moved_to: int | None = None
    detail: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "sent"


class Pacer:
    """Spaces requests at most `rate` a second, in the order they ask.

    Telegram meets a burst beyond its limits with 429 and a wait of a second or more: a
    fan-out that keeps under the limit loses less time than one that runs into it.
    """

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("the rate must be positive")
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0

    async def wait(self) -> None:
        now = self._clock()
        turn = max(now, self._next)
        self._next = turn + self._interval
        if turn > now:
            await self._sleep(turn - now)


class TelegramSender:
    def __init__(
        self,
        bot: Bot,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        *,
        rate: float | None = None,
        in_flight: int = 8,
    ) -> None:
        """`rate`: requests a second at most, all chats together (None: unpaced).

        `in_flight`: requests open at once. The HTTP client's pool looks at every open
        connection for each request, so a request's CPU cost grows with the connections, and
        a fast fan-out with many open at once ran out of CPU. A send waiting out a 429 or a
        back-off holds no place here.
        """
        self._bot = bot
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._pacer = Pacer(rate) if rate is not None else None
        self._requests = asyncio.Semaphore(in_flight)

    async def send(self, payload: dict[str, Any]) -> Sent:
        """`payload` is exactly the `sendMessage` parameters (see bot.telegram.payloads)."""
        return await self._deliver(payload, lambda p: self._bot.send_message(**to_kwargs(p)))

    async def send_document(self, payload: dict[str, Any]) -> Sent:
        """`payload` is `bot.telegram.payloads.send_document`'s: sent as multipart, with the
        same retries, flood waits and migrations as a message."""
        return await self._deliver(payload, lambda p: self._bot.send_document(**document_kwargs(p)))

    async def edit(self, payload: dict[str, Any], message_id: int) -> Sent:
        """Edit a message in place; `payload` as for `send`. An edit that would change nothing
        counts as done: the message already shows it."""

        async def call(p: dict[str, Any]) -> object:
            return await self._bot.edit_message_text(message_id=message_id, **to_kwargs(p))

        return await self._deliver(payload, call)

    async def _deliver(self, payload: dict[str, Any], call: Call) -> Sent:
        chat_id = payload["chat_id"]
        moved: int | None = None
        backoff = self._policy.first_backoff
        for attempt in range(1, self._policy.attempts + 1):
            if self._pacer is not None:
                await self._pacer.wait()
            try:
                async with self._requests:
                    result = await call(payload)
                message = result if isinstance(result, TelegramMessage) else None
                return Sent("sent", message, moved)
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                if wait > self._policy.max_retry_after:
                    log.error("chat %s: flood wait of %.0f s is too long; dropped", chat_id, wait)
                    return Sent("failed", moved_to=moved, detail=f"flood wait of {wait:.0f} s")
                log.warning("chat %s: flood limit, retrying in %.1f s", chat_id, wait)
                await self._sleep(wait)
            except ChatMigrated as exc:
                log.info("chat %s migrated to %s", chat_id, exc.new_chat_id)
                chat_id = moved = exc.new_chat_id
                payload = {**payload, "chat_id": chat_id}
            except Forbidden as exc:
                log.info("chat %s is unreachable (%s)", chat_id, exc.message)
                return Sent("blocked", moved_to=moved)
            except BadRequest as exc:
                text = exc.message.lower()
                if "message is not modified" in text:
                    return Sent("sent", moved_to=moved)
                if "can't parse entities" in text and "parse_mode" in payload:
                    log.error(
                        "chat %s: Telegram rejected our HTML (%s); sent as plain text",
                        chat_id,
                        exc.message,
                    )
                    payload = as_plain_text(payload)
                    continue
                log.error("chat %s: message rejected: %s", chat_id, exc.message)
                return Sent("rejected", moved_to=moved, detail=exc.message)
            except NetworkError as exc:
                if attempt == self._policy.attempts:
                    log.error("chat %s: giving up after %d attempts: %s", chat_id, attempt, exc)
                    return Sent("failed", moved_to=moved, detail=str(exc))
                log.warning("chat %s: %s; retrying in %.1f s", chat_id, exc, backoff)
                await self._sleep(backoff)
                backoff = min(backoff * 2, self._policy.max_backoff)
        log.error("chat %s: not delivered after %d attempts", chat_id, self._policy.attempts)
        return Sent("failed", moved_to=moved)


def to_kwargs(payload: dict[str, Any]) -> dict[str, Any]:
    """The same parameters as PTB objects, so that PTB serialises exactly the payload."""
    kwargs = dict(payload)
    if "reply_markup" in kwargs:
        kwargs["reply_markup"] = InlineKeyboardMarkup.de_json(kwargs["reply_markup"], None)
    if "link_preview_options" in kwargs:
        kwargs["link_preview_options"] = LinkPreviewOptions(**kwargs["link_preview_options"])
    return kwargs


def document_kwargs(payload: dict[str, Any]) -> dict[str, Any]:
    """The console contract's document as a PTB upload (multipart; PTB takes the MIME type
    from the file name, which is why the name carries the right extension)."""
    kwargs = {k: v for k, v in payload.items() if k != "method"}
    document = kwargs["document"]
    kwargs["document"] = InputFile(
        base64.b64decode(document["base64"]), filename=document["filename"]
    )
    return kwargs


def as_plain_text(payload: dict[str, Any]) -> dict[str, Any]:
    plain = {k: v for k, v in payload.items() if k != "parse_mode"}
    key = "text" if "text" in payload else "caption"
    plain[key] = html.unescape(_TAG.sub("", payload[key]))
    return plain


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
