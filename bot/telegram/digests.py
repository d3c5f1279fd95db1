"""Scheduled digests into Telegram chats: the dispatcher's sender for this platform."""

from bot.payloads import telegram_send_message
from bot.telegram.sending import TelegramSender
from briefings.delivery import Outcome
from briefings.rendering import Renderer
from briefings.replies import Reply

_OUTCOMES = {"sent": Outcome.SENT, "blocked": Outcome.BLOCKED, "failed": Outcome.FAILED}


class TelegramDigestSender:
    def __init__(self, sender: TelegramSender, renderer: Renderer) -> None:
        self._sender = sender
        self._renderer = renderer

    async def deliver(self, chat_key: str, reply: Reply) -> Outcome:
        """Every message of the digest, in order; the first that does not go out decides."""
        chat_id: int | str = int(chat_key) if chat_key.lstrip("-").isdigit() else chat_key
        for message in self._renderer.render(reply, "telegram"):
            status = await self._sender.send_status(telegram_send_message(message, chat_id))
            if status != "sent":
                return _OUTCOMES[status]
        return Outcome.SENT
