"""The console's chat state: kept in memory for the session, as DESIGN.md's console contract says.

The console cannot receive digests (the service tells it so before any subscription reaches
here), so a subscription is only remembered, never planned.
"""

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from briefings.languages import Lang
from briefings.ports import ChatRef, ChatState, Subscription
from briefings.schedule import Digest


class SessionChatStates:
    def __init__(self) -> None:
        self._chats: dict[ChatRef, ChatState] = {}

    def state(self, chat: ChatRef) -> ChatState:
        return self._chats.get(chat, ChatState())

    def _change(self, chat: ChatRef, state: ChatState) -> None:
        self._chats[chat] = state

    def set_lang(self, chat: ChatRef, lang: Lang) -> None:
        self._change(chat, dataclasses.replace(self.state(chat), lang=lang))

    def set_visit(self, chat: ChatRef, visit: str | None) -> None:
        self._change(chat, dataclasses.replace(self.state(chat), visit=visit))

    def set_reachable(self, chat: ChatRef, reachable: bool) -> None:
        self._change(chat, dataclasses.replace(self.state(chat), reachable=reachable))

    def migrate(self, old: ChatRef, new_key: str) -> None:
        self._chats[ChatRef(old.platform, new_key)] = self._chats.pop(old, ChatState())

    def subscribe(
        self, chat: ChatRef, subscription: Subscription, plan: Sequence[Digest], now: datetime
    ) -> None:
        self._change(chat, dataclasses.replace(self.state(chat), subscription=subscription))

    def unsubscribe(self, chat: ChatRef) -> bool:
        had = self.state(chat).subscription is not None
        self._change(chat, dataclasses.replace(self.state(chat), subscription=None))
        return had
