"""Deliver a message to Telegram despite flood limits, outages and chats that moved or left.

Policy: 429 waits as long as Telegram asks and tries again; 5xx and network errors back off and
try again; a group that became a supergroup is followed to its new id; an HTML parse error (which
rendering should make impossible) is logged and the message goes out as plain text.

The sender keeps no state about chats: it says what happened (`Sent`), and its caller tells the
conversation service about a chat that blocked the bot or moved.
"""

import asyncio
import base64
import contextlib
import heapq
import html
import itertools
import logging
import math
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from telegram import Bot, InlineKeyboardMarkup, InputFile, LinkPreviewOptions
from telegram import Message as TelegramMessage
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter
from telegram.request import RequestData

# RequestData's own parameter type; PTB exports RequestData but not this one.
from telegram.request._requestparameter import RequestParameter

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
    # The id of the message sent (a send) or edited; `message` is built only where PTB's
    # object layer made the call (edits, documents): a text send reads the id from the JSON.
    message_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == "sent"


# Priorities for the overall rate: a person waiting for an answer goes before a digest fan-out.
INTERACTIVE, DIGEST = 0, 1


class Pacer:
    """Spaces requests at most `rate` a second, in order of priority, then of asking.

    Telegram meets a burst beyond its limits with 429 and a wait of a second or more: a
    fan-out that keeps under the limit loses less time than one that runs into it. A slot is
    never promised ahead of time: while 10,000 digests wait their turn, an interactive reply
    asked for later takes the next free slot (a priority within one rate, not a second rate).

    The limit counts messages, as Telegram's does: a request that did not become one (a 429,
    a 5xx, a network failure, a refusal) hands its slot back (`refund`), else every refused
    send left a slot of the rate unused. Two bounds stay, each over any second: at most `rate`
    messages `delivered`, as Telegram counts them, and at most twice `rate` requests, so that a
    run of failures (an outage, a fan-out to chats that blocked the bot) is no flood.
    """

    # Deliveries beyond this many a second are not tracked: no bot is allowed such a rate, and
    # a test's "unpaced" rate must not hold a window of a million timestamps.
    _TRACKED = 10_000

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
        # Bumped by every slot handed out and every delivery: the releaser, back from a sleep,
        # looks again when either happened meanwhile.
        self._changes = 0
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()
        self._releaser: asyncio.Task[None] | None = None
        capacity = max(1, math.floor(rate))
        tracked = capacity <= self._TRACKED
        # When the last `rate` messages were delivered, and the last twice-`rate` slots given.
        self._window: deque[float] | None = deque(maxlen=capacity) if tracked else None
        self._given: deque[float] | None = deque(maxlen=2 * capacity) if tracked else None

    async def wait(self, priority: int = DIGEST) -> None:
        now = self._clock()
        if not self._waiting and now >= self._ready_at(now):
            self._granted(now)
            return
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiting, (priority, next(self._arrivals), turn))
        if self._releaser is None or self._releaser.done():
            self._releaser = loop.create_task(self._release())
        await turn

    def delivered(self) -> None:
        """The request given the last slot became a message."""
        if self._window is not None:
            self._window.append(self._clock())
            self._changes += 1

    def refund(self) -> None:
        """The request given a slot did not become a message: the slot goes to the next."""
        now = self._clock()
        self._next = max(now, self._next - self._interval)
        if self._waiting and now >= self._ready_at(now) and self._hand_out():
            self._granted(now)

    def _granted(self, now: float) -> None:
        if self._given is not None:
            self._given.append(now)
        # On the grid when the slot is taken a little late (the loop was busy, a timer fired
        # late): spacing each slot from the moment it was taken lost that lateness every time,
        # and a fan-out paced at 300 a second ran at 230. Late by a whole interval or more
        # (a quiet spell), from now: nothing saved up comes out as a burst.
        late = now - self._next
        start = self._next if 0 <= late < self._interval else max(now, self._next)
        self._next = start + self._interval
        self._changes += 1

    def _ready_at(self, now: float) -> float:
        """When the next slot is free: spaced from the last, and within both windows."""
        at = self._next
        for window in (self._window, self._given):
            if window is not None and len(window) == window.maxlen and window[0] + 1.0 > now:
                at = max(at, window[0] + 1.0)
        return at

    def _hand_out(self) -> bool:
        """The most urgent waiter still waiting gets the slot; False when none was left."""
        while self._waiting:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():  # a waiter cancelled meanwhile gives its place up
                turn.set_result(None)
                return True
        return False

    async def _release(self) -> None:
        """Hand out one slot per interval to the most urgent waiter still waiting."""
        while self._waiting:
            now = self._clock()
            at = self._ready_at(now)
            if now < at:
                changes = self._changes
                await self._sleep(at - now)
                if self._changes != changes:
                    continue  # a refund handed a slot out, or a delivery filled the window
            if self._hand_out():
                self._granted(self._clock())


@dataclass(frozen=True, slots=True)
class Window:
    """At most `count` messages in any `seconds` to one chat."""

    count: int
    seconds: float


@dataclass(frozen=True, slots=True)
class ChatLimits:
    """Telegram's limits for one chat: about one message a second in any chat, and at most
    20 a minute in a group. `scaled` shrinks every window (tests run at 1/100 speed); the
    product runs at Telegram's own (`TELEGRAM_PACING_SCALE`, default 1)."""

    private: tuple[Window, ...] = (Window(1, 1.0),)
    group: tuple[Window, ...] = (Window(1, 1.0), Window(20, 60.0))

    def scaled(self, factor: float) -> "ChatLimits":
        if factor < 0:
            raise ValueError("the pacing scale cannot be negative")
        return ChatLimits(
            tuple(Window(w.count, w.seconds * factor) for w in self.private),
            tuple(Window(w.count, w.seconds * factor) for w in self.group),
        )

    def of(self, chat_id: int | str) -> tuple[Window, ...]:
        """Positive ids are people; groups, supergroups and channels (`@name` too) are not."""
        return self.private if isinstance(chat_id, int) and chat_id > 0 else self.group


TELEGRAM_LIMITS = ChatLimits()


class _Gate:
    """One chat's turn: its sends one at a time, each after the chat's windows allow it."""

    __slots__ = ("ends", "lock", "longest")

    def __init__(self, windows: tuple[Window, ...]) -> None:
        self.lock = asyncio.Lock()
        # When each of the chat's last requests was answered. The end, not the start: Telegram
        # saw the request somewhere in between, so spacing from the end keeps its view spaced.
        self.ends: deque[float] = deque(maxlen=max((w.count for w in windows), default=1))
        # Quiet this long after its last answer, the chat's windows no longer remember it.
        self.longest = max((w.seconds for w in windows), default=0.0)

    def quiet(self, now: float) -> bool:
        return not self.lock.locked() and (not self.ends or self.ends[-1] + self.longest <= now)


class ChatPacing:
    """Paces each chat within its `ChatLimits`; chats do not wait for one another."""

    # Gates of quiet chats are forgotten once there are this many, and again each time the gates
    # have doubled since: a sweep per turn cost a fan-out to 20,000 chats a millisecond a message
    # (every gate, every turn); doubling makes it a constant per turn.
    KEEP = 1024

    def __init__(self, limits: ChatLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        self._gates: dict[int | str, _Gate] = {}
        self._sweep_at = self.KEEP

    @property
    def gates(self) -> int:
        """Chats remembered now (their windows may still hold their last sends)."""
        return len(self._gates)

    @contextlib.asynccontextmanager
    async def turn(self, chat_id: int | str) -> AsyncIterator["_Turn"]:
        """Hold the chat for one delivery (all its attempts): its next send waits for it."""
        self._forget_quiet()
        windows = self._limits.of(chat_id)
        gate = self._gates.get(chat_id)
        if gate is None:
            gate = self._gates[chat_id] = _Gate(windows)
        async with gate.lock:
            yield _Turn(gate, windows, self._clock)

    def _forget_quiet(self) -> None:
        if len(self._gates) < self._sweep_at:
            return
        now = self._clock()
        self._gates = {chat: gate for chat, gate in self._gates.items() if not gate.quiet(now)}
        self._sweep_at = max(self.KEEP, 2 * len(self._gates))


@dataclass(slots=True)
class _Turn:
    gate: _Gate
    windows: tuple[Window, ...]
    clock: Callable[[], float]

    async def ready(self) -> None:
        """Wait until one more message keeps the chat within every window."""
        while True:
            ends, now = self.gate.ends, self.clock()
            at = max(
                (ends[-w.count] + w.seconds for w in self.windows if len(ends) >= w.count),
                default=now,
            )
            if at <= now:
                return
            await asyncio.sleep(at - now)

    def answered(self) -> None:
        self.gate.ends.append(self.clock())


class TelegramSender:
    def __init__(
        self,
        bot: Bot,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        *,
        rate: float | None = None,
        in_flight: int = 8,
        limits: ChatLimits | None = TELEGRAM_LIMITS,
    ) -> None:
        """`rate`: requests a second at most, all chats together (None: unpaced).

        `limits`: each chat's own pace (None: unpaced); Telegram's by default. A chat's sends
        go one at a time, in the order asked, so its messages arrive in order.

        `in_flight`: requests open at once. The HTTP client's pool looks at every open
        connection for each request, so a request's CPU cost grows with the connections, and
        a fast fan-out with many open at once ran out of CPU. A send waiting out a 429 or a
        back-off holds no place here.

        `sleep` waits out 429s and back-offs (tests hold it to keep a chat waiting).
        """
        self._bot = bot
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._pacer = Pacer(rate) if rate is not None else None
        self._chats = ChatPacing(limits or ChatLimits((), ()))
        self._requests = asyncio.Semaphore(in_flight)

    async def send(self, payload: dict[str, Any], *, priority: int = DIGEST) -> Sent:
        """`payload` is exactly the `sendMessage` parameters (see bot.telegram.payloads).
        An answer to a person is sent with `priority=INTERACTIVE`: it goes before digests.

        Posted through PTB's request layer (`Bot.request.post`), not `Bot.send_message`: the
        payload is already the Bot API's JSON, and nobody reads the message sent, yet PTB's
        object layer built the request from objects and a `Message` (chat, sender, entities)
        from every answer, half the CPU of a digest send. Errors are PTB's all the same: the
        request layer turns Telegram's answers into RetryAfter, ChatMigrated, Forbidden..."""
        return await self._deliver(payload, self._post_message, priority)

    async def _post_message(self, payload: dict[str, Any]) -> object:
        data = RequestData([RequestParameter.from_input(k, v) for k, v in payload.items()])
        return await self._bot.request.post(f"{self._bot.base_url}/sendMessage", data)

    async def send_document(self, payload: dict[str, Any]) -> Sent:
        """`payload` is `bot.telegram.payloads.send_document`'s: sent as multipart, with the
        same retries, flood waits and migrations as a message."""
        return await self._deliver(
            payload, lambda p: self._bot.send_document(**document_kwargs(p)), INTERACTIVE
        )

    async def edit(self, payload: dict[str, Any], message_id: int) -> Sent:
        """Edit a message in place; `payload` as for `send`. An edit that would change nothing
        counts as done: the message already shows it. Edits answer a button: interactive."""

        async def call(p: dict[str, Any]) -> object:
            return await self._bot.edit_message_text(message_id=message_id, **to_kwargs(p))

        return await self._deliver(payload, call, INTERACTIVE)

    async def _deliver(self, payload: dict[str, Any], call: Call, priority: int) -> Sent:
        async with self._chats.turn(payload["chat_id"]) as turn:
            return await self._attempts(payload, call, priority, turn)

    async def _attempts(
        self, payload: dict[str, Any], call: Call, priority: int, turn: "_Turn"
    ) -> Sent:
        chat_id = payload["chat_id"]
        moved: int | None = None
        backoff = self._policy.first_backoff
        for attempt in range(1, self._policy.attempts + 1):
            await turn.ready()
            if self._pacer is not None:
                await self._pacer.wait(priority)
            try:
                delivered = False
                try:
                    async with self._requests:
                        result = await call(payload)
                    delivered = True
                finally:
                    turn.answered()
                    if self._pacer is not None:
                        # What Telegram did not take as a message does not count against it.
                        (self._pacer.delivered if delivered else self._pacer.refund)()
                if isinstance(result, TelegramMessage):
                    return Sent("sent", result, moved, message_id=result.message_id)
                sent_id = result.get("message_id") if isinstance(result, dict) else None
                return Sent("sent", None, moved, message_id=sent_id)
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
