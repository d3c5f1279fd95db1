"""Scheduled digests into Telegram chats: the dispatcher's sender for this platform."""

from bot.telegram.payloads import send_message
from bot.telegram.sending import PLATFORM, TelegramSender
from briefings.conversation import Conversation
from briefings.delivery import Outcome
from briefings.ports import ChatRef
from briefings.rendering.renderer import Renderer
from briefings.replies import Reply

_OUTCOMES = {"sent": Outcome.SENT, "blocked": Outcome.BLOCKED, "failed": Outcome.FAILED}


class TelegramDigestSender:
    def __init__(
        self, sender: TelegramSender, renderer: Renderer, conversation: Conversation
    ) -> None:
        self._sender = sender
        # A fan-out hands the same reply object to every reader of one language; the renderer
        # remembers it by identity, so it is rendered once for all of them.
        self._renderer = renderer
        self._conversation = conversation

    async def deliver(self, chat_key: str, reply: Reply) -> Outcome:
        """Every message of the digest, in order; the first that does not go out decides.

        A chat that blocked the bot comes back as BLOCKED, and the ledger marks it unreachable;
        a group that became a supergroup is reported to the conversation service, which moves
        the chat (subscription and all) to its new id.
        """
        chat_id: int | str = int(chat_key) if chat_key.lstrip("-").isdigit() else chat_key
        for message in self._renderer.render(reply, "telegram"):
            sent = await self._sender.send(send_message(message, chat_id))
            if sent.moved_to is not None:
                self._conversation.chat_moved(ChatRef(PLATFORM, str(chat_id)), str(sent.moved_to))
                chat_id = sent.moved_to
            if not sent.ok:
                return _OUTCOMES[sent.status]
        return Outcome.SENT
