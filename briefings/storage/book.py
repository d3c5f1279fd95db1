"""The commands' subscription port, backed by the ledger: subscribing plans the digests."""

from collections.abc import Callable
from datetime import datetime, time

from briefings.digests import digests
from briefings.dossier import Visit
from briefings.languages import Lang, lang_or_default
from briefings.storage.ledger import Ledger
from briefings.subscriptions import ChatRef, Subscribed


class LedgerBook:
    def __init__(self, ledger: Ledger, visit: Visit, clock: Callable[[], datetime]) -> None:
        self._ledger = ledger
        self._visit = visit
        self._clock = clock

    def subscribe(self, chat: ChatRef, at: time, timezone: str, lang: Lang) -> None:
        self._ledger.subscribe(
            platform=chat.platform,
            chat_key=chat.key,
            visit_id=self._visit.id,
            at=at,
            timezone=timezone,
            lang=lang,
            plan=digests(self._visit),
            now=self._clock(),
        )

    def unsubscribe(self, chat: ChatRef) -> bool:
        return self._ledger.unsubscribe(chat.platform, chat.key, self._visit.id)

    def current(self, chat: ChatRef) -> Subscribed | None:
        for sub in self._ledger.subscriptions(chat.platform, chat.key):
            if sub.visit_id == self._visit.id:
                return Subscribed(sub.local_time, sub.timezone, lang_or_default(sub.lang))
        return None
