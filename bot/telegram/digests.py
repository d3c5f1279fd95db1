"""Scheduled digests into Telegram chats: the dispatcher's sender for this platform."""

from bot.payloads import telegram_send_message
from bot.telegram.sending import TelegramSender
from briefings.delivery import Outcome
from briefings.rendering.renderer import Message, Renderer
from briefings.replies import Reply

_OUTCOMES = {"sent": Outcome.SENT, "blocked": Outcome.BLOCKED, "failed": Outcome.FAILED}


# Replies whose rendering is kept: a fan-out hands the same reply object to every subscriber of
# one language, and rendering it each time was a good part of a delivery's CPU time.
_RENDERED = 16


class TelegramDigestSender:
    def __init__(self, sender: TelegramSender, renderer: Renderer) -> None:
        self._sender = sender
        self._renderer = renderer
        # Keyed by identity, each reply held so that its id cannot be reused while kept.
        self._rendered: dict[int, tuple[Reply, list[Message]]] = {}

    async def deliver(self, chat_key: str, reply: Reply) -> Outcome:
        """Every message of the digest, in order; the first that does not go out decides."""
        chat_id: int | str = int(chat_key) if chat_key.lstrip("-").isdigit() else chat_key
        for message in self._render(reply):
            status = await self._sender.send_status(telegram_send_message(message, chat_id))
            if status != "sent":
                return _OUTCOMES[status]
        return Outcome.SENT

    def _render(self, reply: Reply) -> list[Message]:
        kept = self._rendered.get(id(reply))
        if kept is not None and kept[0] is reply:
            return kept[1]
        messages = self._renderer.render(reply, "telegram")
        if len(self._rendered) >= _RENDERED:
            del self._rendered[next(iter(self._rendered))]
        self._rendered[id(reply)] = (reply, messages)
        return messages
