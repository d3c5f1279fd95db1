"""Telegram updates in, the conversation service's answers out: translation and nothing else.

An update becomes an `Incoming` (chat, chat kind, user, language, text or button payload), the
service answers, the answer is rendered and sent. A typed message posted to the webhook is read
from its JSON rather than through PTB's objects (bot/telegram/typed.py); every other update goes
through PTB. Language, chat state and permissions are the service's; this module only tells it
what Telegram says (who is an admin, a chat that blocked the bot or moved) and says its answers
the Telegram way.
"""

import asyncio
import contextlib
import hmac
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from telegram import BotCommand, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.http import HttpServer
from bot.lanes import ChatLanes
from bot.seen_groups import GroupedSeen
from bot.telegram.payloads import send_document, send_message
from bot.telegram.sending import (
    INTERACTIVE,
    PLATFORM,
    TELEGRAM_LIMITS,
    ChatLimits,
    RetryPolicy,
    Sent,
    TelegramSender,
)
from bot.telegram.transport import AiohttpRequest
from bot.telegram.typed import Said, Typed, read, said_of, wanted
from briefings.commands import COMMANDS
from briefings.conversation import AdminCheck, Conversation, Incoming
from briefings.languages import LANGS, Lang
from briefings.ports import ChatKind, ChatRef, SeenRequests
from briefings.rendering.renderer import Message, Renderer

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
ALLOWED_UPDATES = ["message", "channel_post", "callback_query", "my_chat_member"]
_KINDS: dict[str, ChatKind] = {
    ChatType.PRIVATE: "private",
    ChatType.GROUP: "group",
    ChatType.SUPERGROUP: "group",
    ChatType.CHANNEL: "channel",
}
_ADMINS = {ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER}
_GONE = {ChatMemberStatus.BANNED, ChatMemberStatus.LEFT}
# Updates accepted and not yet answered, all chats together; beyond it a webhook POST waits for
# room (HOLD_SECONDS) and then gets 503 (Telegram sends it again later), and polling waits.
IN_FLIGHT = 512
# How long a webhook POST beyond IN_FLIGHT waits for room before its 503: well within the time
# Telegram gives a webhook to answer.
HOLD_SECONDS = 5.0
# How long stop() lets accepted updates finish (a 429 may ask for up to a minute).
DRAIN_SECONDS = 75.0
# One getUpdates batch: polling waits while this many wait to be put in a lane.
POLL_QUEUE = 100
RETRY_LATER = {"Retry-After": "1"}


class ChatOrdered(BaseUpdateProcessor):
    """Hands each update to its chat's lane (`ChatLanes`) and returns: chats concurrently,
    one chat in order.

    PTB's own concurrency runs every update in a task of its own, in no order within a chat;
    with one place (`max_concurrent_updates=1`) PTB hands updates over one at a time, in the
    order they came, which is what the lanes need; they do the concurrency. Handing over waits
    while the lanes are full, so polling waits too (the update queue is bounded).
    """

    def __init__(self, lanes: ChatLanes) -> None:
        super().__init__(max_concurrent_updates=1)
        self._lanes = lanes

    async def do_process_update(self, update: object, coroutine: "Awaitable[Any]") -> None:
        await self._lanes.put(lane_of(update), coroutine)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def lane_of(update: object) -> str:
    """Updates of one chat share a lane; one without a chat is a lane of its own."""
    if isinstance(update, Typed):
        return str(update.said.chat_id)
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return str(update.effective_chat.id)
        return f"update:{update.update_id}"
    return "other"


class TelegramAdapter:
    def __init__(
        self,
        *,
        token: str,
        api_url: str,
        conversation: Conversation,
        renderer: Renderer,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        http: HttpServer | None = None,
        send_rate: float | None = None,
        retry: RetryPolicy | None = None,
        poll_timeout: float = 10.0,
        seen: SeenRequests | None = None,
        limits: ChatLimits | None = TELEGRAM_LIMITS,
        in_flight: int = IN_FLIGHT,
        hold_seconds: float = HOLD_SECONDS,
        drain_seconds: float = DRAIN_SECONDS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`limits`: each chat's pace (Telegram's; tests scale them down); `in_flight`: the
        bound on updates accepted and not yet answered; `hold_seconds`: how long a webhook POST
        beyond it waits for room before it is refused; `sleep`: waits out 429s and back-offs."""
        # Opt in to PTB 22's timedelta periods; the int form is deprecated and warns.
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        root = api_url.rstrip("/")
        self._requests = (AiohttpRequest(), AiohttpRequest(connections=1))
        builder = (
            Application.builder()
            .token(token)
            .base_url(f"{root}/bot")
            .base_file_url(f"{root}/file/bot")
            # PTB's request layer on aiohttp (see bot/telegram/transport.py); the long poll has
            # a connection of its own, as with PTB's default backend.
            .request(self._requests[0])
            .get_updates_request(self._requests[1])
        )
        # Digests have their own scheduler (bot/scheduling.py); PTB's JobQueue stays off.
        builder = builder.job_queue(None)  # type: ignore[arg-type]  # None is documented
        self._lanes = ChatLanes(in_flight)
        self._drain_seconds = drain_seconds
        self._hold_seconds = hold_seconds
        # Updates are taken only between the end of start() and quiesce(): before, PTB cannot
        # handle them yet; after, they might outlive the process.
        self._taking = False
        builder = builder.concurrent_updates(ChatOrdered(self._lanes)).update_queue(
            asyncio.Queue(maxsize=POLL_QUEUE)
        )
        if webhook_url:
            builder = builder.updater(None)
        self.application = app = builder.build()
        self._conversation = conversation
        self._renderer = renderer
        self._webhook_url = webhook_url
        self._webhook_secret = webhook_secret or (
            secrets.token_urlsafe(32) if webhook_url else None
        )
        self._poll_timeout = poll_timeout
        # Webhook updates Telegram delivers again (after a 5xx or a timeout, perhaps to another
        # process) are taken on once; the bot's id (the token's public half) scopes update ids.
        self._seen = GroupedSeen(seen) if seen is not None else None
        self._bot_id = token.partition(":")[0]
        self.sender = TelegramSender(app.bot, retry, sleep, rate=send_rate, limits=limits)

        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self._on_migrate))
        app.add_handler(MessageHandler(filters.COMMAND, self._on_message))
        # In a group only commands are for the bot; in a private chat any text is.
        private_text = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
        app.add_handler(MessageHandler(private_text, self._on_message))
        app.add_handler(CallbackQueryHandler(self._on_button))
        app.add_handler(ChatMemberHandler(self._on_membership, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_error_handler(self._on_error)
        if webhook_url:
            if http is None:
                raise ValueError("webhook mode needs the HTTP server")
            http.add_post(urlparse(webhook_url).path or "/telegram", self._on_webhook)

    @property
    def mode(self) -> str:
        return "webhook" if self._webhook_url else "polling"

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self._abandon()
            raise

    async def _abandon(self) -> None:
        """A start that failed half-way (a refused token or webhook) closes what it opened: no
        one stops a service that never started, and PTB leaves its requests' sessions open."""
        app = self.application
        if app.updater is not None and app.updater.running:
            with contextlib.suppress(Exception):
                await app.updater.stop()
        if app.running:
            with contextlib.suppress(Exception):
                await app.stop()
        with contextlib.suppress(Exception):
            await app.shutdown()  # returns at once when initialize() did not get through
        for request in self._requests:
            await request.shutdown()  # again, for that case

    async def _start(self) -> None:
        app = self.application
        await app.initialize()
        await self.set_menu()
        await app.start()
        if self._webhook_url:
            await app.bot.set_webhook(
                self._webhook_url,
                secret_token=self._webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        elif app.updater is not None:
            await app.updater.start_polling(
                timeout=timedelta(seconds=self._poll_timeout), allowed_updates=ALLOWED_UPDATES
            )
        self._taking = True
        log.info("Telegram started as @%s (%s)", app.bot.username, self.mode)

    async def quiesce(self) -> None:
        """Take no new update from now on: a webhook POST gets 503, and Telegram resends it
        (those held waiting for room too, at once)."""
        self._taking = False
        self._lanes.refuse_waiting()

    async def stop(self) -> None:
        """Stop taking updates, answer every update already accepted, then close."""
        await self.quiesce()
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()  # hands what is queued to the lanes
        await self._lanes.close(self._drain_seconds)
        if self._seen is not None:
            await self._seen.close()
        await app.shutdown()

    async def set_menu(self) -> None:
        """The core's command table in each language; English also for every other language."""
        bot = self.application.bot
        for lang in LANGS:
            await bot.set_my_commands(_menu(lang), language_code=lang)
        await bot.set_my_commands(_menu("en"))

    # --- Telegram update -> Incoming -> Answer -> Telegram calls ------------------------------

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        said = said_of(update)
        if said is not None and said.text:
            await self._answer(said)

    async def _answer(self, said: Said) -> None:
        """A typed message, read by PTB (`_on_message`) or from the webhook's JSON (`_once`)."""
        words = said.text.split(maxsplit=1)
        addressee = words[0].partition("@")[2] if words else ""
        username = self.application.bot.username or ""
        if addressee and addressee.casefold() != username.casefold():
            return  # a command for another bot in the same group
        answer = await self._conversation.handle(self._incoming(said, text=said.text))
        await self._send(said.chat_id, self._renderer.render(answer.reply, "telegram"))

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, chat = update.callback_query, update.effective_chat
        if query is None or chat is None or query.message is None:
            return
        try:
            await query.answer()
        except TelegramError as exc:
            # A press from before a restart is too old to answer; it can still be shown.
            log.warning("callback query not answered: %s", exc.message)
        said = said_of(update)
        assert said is not None  # it has a chat
        answer = await self._conversation.handle(self._incoming(said, action=query.data or ""))
        messages = self._renderer.render(answer.reply, "telegram")
        chat_id = chat.id
        if answer.in_place and query.message.is_accessible:
            payload = send_message(messages[0], chat_id)
            edited = await self.sender.edit(payload, query.message.message_id)
            chat_id = self._heard(chat_id, edited)
            if edited.status == "blocked":
                return
            if edited.ok:
                messages = messages[1:]
        await self._send(chat_id, messages)

    async def _on_membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        change = update.my_chat_member
        if change is None:
            return
        chat = ChatRef(PLATFORM, str(change.chat.id))
        if change.new_chat_member.status in _GONE:
            self._conversation.chat_gone(chat)
        else:
            self._conversation.chat_back(chat)

    async def _on_migrate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.migrate_to_chat_id:
            old = ChatRef(PLATFORM, str(message.chat_id))
            self._conversation.chat_moved(old, str(message.migrate_to_chat_id))

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("Telegram update failed", exc_info=context.error)

    def _incoming(
        self, said: Said, *, text: str | None = None, action: str | None = None
    ) -> Incoming:
        kind = _KINDS.get(said.chat_type, "group")
        is_admin: AdminCheck | None = None
        if kind != "private" and said.as_chat:
            # An anonymous admin writes as the group itself; in a channel only admins post.
            is_admin = _yes
        elif kind == "group" and said.user_id is not None:
            chat_id, user_id = said.chat_id, said.user_id

            async def is_admin() -> bool:
                member = await self.application.bot.get_chat_member(chat_id, user_id)
                return member.status in _ADMINS

        return Incoming(
            chat=ChatRef(PLATFORM, str(said.chat_id)),
            kind=kind,
            user=str(said.user_id) if said.user_id is not None else None,
            locale=said.locale,
            text=text,
            action=action,
            is_admin=is_admin,
        )

    async def _send(self, chat_id: int, messages: list[Message]) -> None:
        for message in messages:
            if message.attachment is not None:
                sent = await self.sender.send_document(send_document(message, chat_id))
            else:
                sent = await self.sender.send(send_message(message, chat_id), priority=INTERACTIVE)
            chat_id = self._heard(chat_id, sent)
            if sent.status == "blocked":
                return

    def _heard(self, chat_id: int, sent: Sent) -> int:
        """Tell the service what a send found out about the chat; the chat's id from now on."""
        if sent.moved_to is not None:
            self._conversation.chat_moved(ChatRef(PLATFORM, str(chat_id)), str(sent.moved_to))
            chat_id = sent.moved_to
        if sent.status == "blocked":
            self._conversation.chat_gone(ChatRef(PLATFORM, str(chat_id)))
        return chat_id

    async def _on_webhook(self, request: web.Request) -> web.Response:
        """200 only for an update that will be answered: once stopping, or still full after
        `hold_seconds`, 503, which Telegram meets by sending the update again (to this
        process later, or another)."""
        if not self._taking:
            return web.Response(status=503, headers=RETRY_LATER)
        given = request.headers.get(SECRET_HEADER, "")
        expected = self._webhook_secret or ""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return web.Response(status=403)
        # Full, the POST waits its turn for a place before its update is read: Telegram sends
        # a webhook's updates over at most `max_connections` connections and waits for each
        # answer, so a held answer slows it down where a 503 made it wait a whole Retry-After
        # (and parsing refused updates spent the CPU the lanes needed to drain).
        if not await self._lanes.place(self._hold_seconds):
            log.warning("%d updates in flight: update refused for now", self._lanes.accepted)
            return web.Response(status=503, headers=RETRY_LATER)
        filled = False
        try:
            try:
                data: Any = await request.json()
                if not isinstance(data, dict):
                    return web.Response(status=400)
                # A typed message is read straight from its JSON; every other update is PTB's
                # (bot/telegram/typed.py says why and which).
                update: Typed | Update = read(data) or Update.de_json(data, self.application.bot)
            except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
                return web.Response(status=400)
            if not self._taking:
                return web.Response(status=503, headers=RETRY_LATER)
            self._lanes.fill(lane_of(update), self._once(update))
            filled = True
            return web.Response(status=200)
        finally:
            if not filled:
                self._lanes.give_back()

    async def _once(self, update: Typed | Update) -> None:
        """An update's turn in its chat's lane: handled unless another delivery of it (to this
        process or another) was taken on first. Asked here rather than before the 200, so that
        a delivery refused with 503 is never remembered, and so that the updates whose turn
        comes together are recorded in one transaction (`GroupedSeen`). A typed message read
        from the JSON is answered as PTB's handlers answer it (`_on_message`), its failure
        logged as their error handler logs one."""
        if not await self._first_time(update.update_id):
            log.info("Telegram update %s already taken on: not handled again", update.update_id)
        elif isinstance(update, Update):
            await self.application.process_update(update)
        elif wanted(update.said):
            try:
                await self._answer(update.said)
            except Exception:
                log.exception("Telegram update failed")

    async def _first_time(self, update_id: int) -> bool:
        if self._seen is None:
            return True
        try:
            return await self._seen.first_time(f"telegram:{self._bot_id}:update:{update_id}")
        except Exception:
            # Without the database a duplicate answer is possible, silence certain: handle it.
            log.warning("could not check whether update %s was seen; handling it", update_id)
            return True


async def _yes() -> bool:
    return True


def _menu(lang: Lang) -> list[BotCommand]:
    return [BotCommand(c.name, c.summary(lang)) for c in COMMANDS]
