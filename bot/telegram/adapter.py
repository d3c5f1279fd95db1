"""Telegram updates in, core replies out: commands, day buttons, menus, polling or webhook."""

import hmac
import logging
import os
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from telegram import BotCommand, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.http import HttpServer
from bot.payloads import telegram_send_message
from bot.telegram.sending import PLATFORM, RetryPolicy, TelegramSender
from briefings.commands import COMMANDS, Briefing, Context, handle
from briefings.languages import LANGS, Lang, lang_or_default
from briefings.rendering.renderer import Renderer
from briefings.replies import Reply
from briefings.subscriptions import ChatRef, SubscriptionBook
from storage.chats import ChatStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


class TelegramAdapter:
    def __init__(
        self,
        *,
        token: str,
        api_url: str,
        briefing: Briefing,
        renderer: Renderer,
        store: ChatStore,
        clock: Clock,
        default_lang: Lang = "en",
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        http: HttpServer | None = None,
        retry: RetryPolicy | None = None,
        poll_timeout: float = 10.0,
        book: SubscriptionBook | None = None,
        send_rate: float | None = None,
    ) -> None:
        # Opt in to PTB 22's timedelta periods; the int form is deprecated and warns.
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        root = api_url.rstrip("/")
        builder = (
            Application.builder()
            .token(token)
            .base_url(f"{root}/bot")
            .base_file_url(f"{root}/file/bot")
        )
        # Digests have their own scheduler (bot/scheduling.py); PTB's JobQueue stays off.
        builder = builder.job_queue(None)  # type: ignore[arg-type]  # None is documented
        if webhook_url:
            builder = builder.updater(None)
        self.application = builder.build()
        self._briefing = briefing
        self._renderer = renderer
        self._store = store
        self._clock = clock
        self._default_lang = default_lang
        self._webhook_url = webhook_url
        self._webhook_secret = webhook_secret or (
            secrets.token_urlsafe(32) if webhook_url else None
        )
        self._poll_timeout = poll_timeout
        self._book = book
        self.sender = TelegramSender(self.application.bot, store, retry, rate=send_rate)

        app = self.application
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self._on_migrate))
        app.add_handler(MessageHandler(filters.COMMAND, self._on_command))
        app.add_handler(
            MessageHandler(
                filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, self._on_text
            )
        )
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
        log.info("Telegram started as @%s (%s)", app.bot.username, self.mode)

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    async def set_menu(self) -> None:
        """The command menu in each language; English also as the default for all others."""
        bot = self.application.bot
        for lang in LANGS:
            await bot.set_my_commands(_menu(lang), language_code=lang)
        await bot.set_my_commands(_menu("en"))

    # --- translation: Telegram update -> core call -> Telegram call --------------------------

    def _reply(self, update: Update, text: str) -> Reply | None:
        chat, user = update.effective_chat, update.effective_user
        if chat is None:
            return None
        key = str(chat.id)
        settings = self._store.settings(PLATFORM, key)
        if not settings.active:
            # The chat wrote to us again, so it can hear us again.
            self._store.set_active(PLATFORM, key, True)
        lang = settings.lang or lang_or_default(
            user.language_code if user else None, self._default_lang
        )
        context = Context(
            lang,
            self._clock(),
            private=chat.type == ChatType.PRIVATE,
            chat=ChatRef(PLATFORM, key),
            book=self._book,
        )
        reply = handle(self._briefing, context, text)
        if reply.set_lang is not None:
            self._store.set_lang(PLATFORM, key, reply.set_lang)
        return reply

    async def _send(self, chat_id: int, reply: Reply) -> None:
        for message in self._renderer.render(reply, "telegram"):
            await self.sender.send(telegram_send_message(message, chat_id))

    async def _on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not message.text:
            return
        head = message.text.split(maxsplit=1)[0]
        addressee = head.partition("@")[2]
        if addressee and addressee.casefold() != (context.bot.username or "").casefold():
            return  # a command for another bot in the same group
        reply = self._reply(update, message.text)
        if reply is not None:
            await self._send(message.chat_id, reply)

    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not message.text:
            return
        reply = self._reply(update, message.text)
        if reply is not None:
            await self._send(message.chat_id, reply)

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        try:
            await query.answer()
        except TelegramError as exc:
            # A press from before a restart is too old to answer; the day can still be shown.
            log.warning("callback query not answered: %s", exc.message)
        message = query.message
        reply = self._reply(update, "/" + (query.data or ""))
        if reply is None or message is None:
            return
        rendered = self._renderer.render(reply, "telegram")
        first, rest = rendered[0], rendered[1:]
        if message.is_accessible:
            edited = await self.sender.edit(
                telegram_send_message(first, message.chat.id), message.message_id
            )
        else:
            edited = False
        if not edited:
            await self.sender.send(telegram_send_message(first, message.chat.id))
        for extra in rest:
            await self.sender.send(telegram_send_message(extra, message.chat.id))

    async def _on_migrate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.migrate_to_chat_id:
            self._store.migrate(PLATFORM, str(message.chat_id), str(message.migrate_to_chat_id))

    async def _on_membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        change = update.my_chat_member
        if change is None:
            return
        gone = change.new_chat_member.status in {ChatMemberStatus.BANNED, ChatMemberStatus.LEFT}
        self._store.set_active(PLATFORM, str(change.chat.id), not gone)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("Telegram update failed", exc_info=context.error)

    async def _on_webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        expected = self._webhook_secret or ""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return web.Response(status=403)
        try:
            data: Any = await request.json()
            if not isinstance(data, dict):
                return web.Response(status=400)
            update = Update.de_json(data, self.application.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return web.Response(status=400)
        await self.application.update_queue.put(update)
        return web.Response(status=200)


def _menu(lang: Lang) -> list[BotCommand]:
    return [BotCommand(c.name, c.summary(lang)) for c in COMMANDS]
