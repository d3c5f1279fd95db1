"""Chat state kept in memory, for as long as the process lives: the console's session.

The chat adapters keep theirs in the database (`storage/`); tests and benchmarks use this too.
"""

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from briefings.languages import Lang
from briefings.ports import ChatRef, ChatState, Subscription
from briefings.schedule import Digest


class MemoryChatStates:
    """`ChatStates` in a dict; subscriptions are recorded with the digests they would plan."""

    def __init__(self) -> None:
        self.chats: dict[ChatRef, ChatState] = {}
        self.planned: dict[ChatRef, list[Digest]] = {}

    def state(self, chat: ChatRef) -> ChatState:
        return self.chats.get(chat, ChatState())

    def _change(self, chat: ChatRef, **changes: object) -> None:
        self.chats[chat] = dataclasses.replace(self.state(chat), **changes)  # type: ignore[arg-type]

    def set_lang(self, chat: ChatRef, lang: Lang) -> None:
        self._change(chat, lang=lang)

    def set_visit(self, chat: ChatRef, visit: str | None) -> None:
        self._change(chat, visit=visit)

    def set_reachable(self, chat: ChatRef, reachable: bool) -> None:
        self._change(chat, reachable=reachable)

    def migrate(self, old: ChatRef, new_key: str) -> None:
        new = ChatRef(old.platform, new_key)
        if old in self.chats:
            self.chats[new] = self.chats.pop(old)
        if old in self.planned:
            self.planned[new] = self.planned.pop(old)

    def subscribe(
        self, chat: ChatRef, subscription: Subscription, plan: Sequence[Digest], now: datetime
    ) -> None:
        self._change(chat, subscription=subscription)
        self.planned[chat] = list(plan)

    def unsubscribe(self, chat: ChatRef) -> bool:
        had = self.state(chat).subscription is not None
        self._change(chat, subscription=None)
        self.planned.pop(chat, None)
        return had
