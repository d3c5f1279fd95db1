"""Scheduled digests into Telegram chats: the dispatcher's sender for this platform."""

from bot.telegram.payloads import send_message
from bot.telegram.sending import PLATFORM, TelegramSender
from briefings.conversation import Conversation
from briefings.delivery import Outcome, Parts
from briefings.ports import ChatRef
from briefings.rendering.renderer import Renderer
from briefings.replies import Reply

_OUTCOMES = {
    "sent": Outcome.SENT,
    "blocked": Outcome.BLOCKED,
    "failed": Outcome.FAILED,
    "rejected": Outcome.REJECTED,
}


class TelegramDigestSender:
    def __init__(
        self, sender: TelegramSender, renderer: Renderer, conversation: Conversation
    ) -> None:
        self._sender = sender
        # A fan-out hands the same reply object to every reader of one language; the renderer
        # remembers it by identity, so it is rendered once for all of them.
        self._renderer = renderer
        self._conversation = conversation

    async def deliver(self, chat_key: str, reply: Reply, parts: Parts | None = None) -> Outcome:
        """Every message of the digest from `parts.first` on, in order, each reported once it
        went out; the first that does not go out decides.

        A chat that blocked the bot comes back as BLOCKED, and the ledger marks it unreachable;
        a 400 (a message Telegram will never take, such as one too long) as REJECTED, final; a
        group that became a supergroup is reported to the conversation service, which moves
        the chat (subscription and all) to its new id.
        """
        chat_id: int | str = int(chat_key) if chat_key.lstrip("-").isdigit() else chat_key
        parts = parts or Parts()  # a caller that keeps no record: every part
        messages = self._renderer.render(reply, "telegram")
        total = len(messages)
        for part in range(parts.first, total):
            sent = await self._sender.send(send_message(messages[part], chat_id))
            if sent.moved_to is not None:
                self._conversation.chat_moved(ChatRef(PLATFORM, str(chat_id)), str(sent.moved_to))
                chat_id = sent.moved_to
            if not sent.ok:
                parts.refused(part, total, sent.detail or sent.status)
                return _OUTCOMES[sent.status]
            await parts.sent(part, total)
        return Outcome.SENT
