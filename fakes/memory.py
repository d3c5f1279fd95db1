"""The ports of `briefings.ports` in memory: chat state and the delivery ledger, no database.

For tests, benchmarks and the console. The two share one set of tables (`MemoryChatStates`
owns them, `MemoryLedger` reads and writes them), as the SQL implementation shares one
database: subscribing plans delivery rows, a migration moves a chat's subscription with the rest
of its state, and a `blocked` outcome marks the chat unreachable. The semantics follow the SQL
ledger's, so a test that passes here describes what storage must do; what happened is kept in
`MemoryLedger.transcript`, in order, for tests to read.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import count
from typing import TYPE_CHECKING, Any, Literal

from briefings.languages import Lang
from briefings.ports import (
    ChatRef,
    ChatState,
    Claimed,
    PartSent,
    Recipient,
    Settled,
    Subscription,
)
from briefings.schedule import Digest, due_at

if TYPE_CHECKING:
    from briefings.ports import ChatStates, DeliveryLedger

# A settled status, or `sending` while a claim is in flight.
RowStatus = Literal["pending", "sending", "sent", "failed", "rejected", "blocked", "skipped"]


@dataclass(slots=True)
class DeliveryRow:
    """One (subscription, digest) row, as the ledger's table holds it."""

    id: int
    subscription_id: int
    digest_key: str
    due_at: datetime
    status: RowStatus = "pending"
    attempts: int = 0
    # After a `pending` outcome (try again later): not claimed before this.
    not_before: datetime | None = None
    finished_at: datetime | None = None
    detail: str | None = None
    # Parts of a multi-message digest already sent, in order.
    parts_sent: int = 0


@dataclass(slots=True)
class SubscriptionRow:
    """A chat's subscription; it stays (inactive) after /unsubscribe, as history."""

    id: int
    chat: ChatRef
    subscription: Subscription
    active: bool = True


@dataclass
class MemoryChatStates:
    """`ChatStates` in memory. `default_lang` is the language of a chat that never chose one,
    which the ledger needs when it claims a digest for it (storage takes the bot's default)."""

    default_lang: Lang = "en"
    chats: dict[ChatRef, ChatState] = field(default_factory=dict)
    subscriptions: dict[int, SubscriptionRow] = field(default_factory=dict)
    deliveries: dict[int, DeliveryRow] = field(default_factory=dict)
    _ids: "count[int]" = field(default_factory=lambda: count(1), repr=False)

    def state(self, chat: ChatRef) -> ChatState:
        return self.chats.get(chat, ChatState())

    def set_lang(self, chat: ChatRef, lang: Lang) -> None:
        self._update(chat, lang=lang)

    def set_visit(self, chat: ChatRef, visit: str | None) -> None:
        self._update(chat, visit=visit)

    def set_reachable(self, chat: ChatRef, reachable: bool) -> None:
        self._update(chat, reachable=reachable)

    def migrate(self, old: ChatRef, new_key: str) -> None:
        """Everything moves to the new id; what the new id already chose itself (a message that
        arrived there first) wins over what the old one had."""
        new = ChatRef(old.platform, new_key)
        if new == old:
            return
        moving = self.chats.pop(old, ChatState())
        there = self.chats.get(new)
        if there is not None:
            moving = ChatState(
                lang=there.lang or moving.lang,
                visit=there.visit or moving.visit,
                reachable=there.reachable,
                subscription=there.subscription or moving.subscription,
            )
            if there.subscription is not None:
                self._deactivate(old)
        self.chats[new] = moving
        for row in self.subscriptions.values():
            if row.chat == old and row.active:
                row.chat = new

    def subscribe(
        self, chat: ChatRef, subscription: Subscription, plan: Sequence[Digest], now: datetime
    ) -> None:
        row = self._subscription_row(chat)
        if row is None:
            row = SubscriptionRow(next(self._ids), chat, subscription)
            self.subscriptions[row.id] = row
        row.subscription, row.active = subscription, True
        self._update(chat, subscription=subscription)
        existing = {
            d.digest_key: d for d in self.deliveries.values() if d.subscription_id == row.id
        }
        for digest in plan:
            due = due_at(digest, subscription.at, subscription.timezone)
            if due <= now:
                continue
            planned = existing.get(digest.key)
            if planned is None:
                delivery = DeliveryRow(next(self._ids), row.id, digest.key, due)
                self.deliveries[delivery.id] = delivery
            elif planned.status == "pending":
                # A new time replans what is still to come; what went out stays sent.
                planned.due_at, planned.not_before = due, None

    def unsubscribe(self, chat: ChatRef) -> bool:
        had = self._deactivate(chat)
        if chat in self.chats:
            self._update(chat, subscription=None)
        return had

    # --- shared with the ledger ---------------------------------------------------------

    def _update(self, chat: ChatRef, **changes: Any) -> None:
        self.chats[chat] = replace(self.state(chat), **changes)

    def _subscription_row(self, chat: ChatRef) -> SubscriptionRow | None:
        """The chat's active subscription, else its latest."""
        rows = [r for r in self.subscriptions.values() if r.chat == chat]
        return max(rows, key=lambda r: (r.active, r.id)) if rows else None

    def _deactivate(self, chat: ChatRef) -> bool:
        row = self._subscription_row(chat)
        if row is None:
            return False
        # Its sent rows stay: they keep a later re-subscription from sending them again.
        for delivery in list(self.deliveries.values()):
            if delivery.subscription_id == row.id and delivery.status == "pending":
                del self.deliveries[delivery.id]
        was_active, row.active = row.active, False
        return was_active


@dataclass
class MemoryLedger:
    """`DeliveryLedger` over the tables of `states`; `transcript` says what happened, in order:
    `"skipped <digest> <platform>:<chat>"`, `"claimed …"`, then `"<status> …"` per outcome."""

    states: MemoryChatStates
    transcript: list[str] = field(default_factory=list)

    def skip_missed(self, now: datetime, grace: timedelta) -> list[str]:
        """Pending rows due more than `grace` ago are not sent late: marked skipped, reported."""
        skipped = []
        for row in self._ordered():
            if row.status == "pending" and row.due_at < now - grace:
                row.status, row.finished_at = "skipped", now
                row.detail = f"missed by more than {grace}"
                skipped.append(f"{row.digest_key} for subscription {row.subscription_id}")
                self._note("skipped", row)
        return skipped

    def claim(self, now: datetime, limit: int) -> list[Claimed]:
        """Up to `limit` due rows of active subscriptions to reachable chats, earliest first;
        each now `sending`, its attempts counted, until settled."""
        claimed: list[Claimed] = []
        for row in self._ordered():
            if len(claimed) == limit:
                break
            if not self._claimable(row, now):
                continue
            row.status, row.attempts = "sending", row.attempts + 1
            claimed.append(
                Claimed(
                    row.id,
                    row.digest_key,
                    row.due_at,
                    row.attempts,
                    self._recipient(row),
                    row.parts_sent,
                )
            )
            self._note("claimed", row)
        return claimed

    def settle(self, outcomes: Sequence[Settled | PartSent]) -> None:
        """`pending` returns a row to the queue until `at`; any other status finishes it; a part
        sent moves where a retry resumes. Only rows in flight are settled, as only their owner
        may settle them in storage."""
        for outcome in outcomes:
            row = self.states.deliveries.get(outcome.delivery_id)
            if row is None or row.status != "sending":
                continue
            if isinstance(outcome, PartSent):
                row.parts_sent = max(row.parts_sent, outcome.part + 1)
                self.transcript.append(f"part {outcome.part + 1} {row.digest_key}")
                continue
            row.detail = outcome.detail and outcome.detail[:200]
            if outcome.status == "pending":
                row.status, row.not_before = "pending", outcome.at
            else:
                row.status, row.finished_at = outcome.status, outcome.at
            if outcome.status == "blocked":
                self.states.set_reachable(self._subscription(row).chat, False)
            self._note(outcome.status, row)

    # --- reading, for tests -------------------------------------------------------------

    def rows(self, status: RowStatus | None = None) -> list[DeliveryRow]:
        """The delivery rows, earliest due first; only those in `status` when given."""
        return [r for r in self._ordered() if status is None or r.status == status]

    # --- inside -------------------------------------------------------------------------

    def _ordered(self) -> list[DeliveryRow]:
        return sorted(self.states.deliveries.values(), key=lambda r: (r.due_at, r.id))

    def _subscription(self, row: DeliveryRow) -> SubscriptionRow:
        return self.states.subscriptions[row.subscription_id]

    def _claimable(self, row: DeliveryRow, now: datetime) -> bool:
        subscription = self._subscription(row)
        return (
            row.status == "pending"
            and row.due_at <= now
            and (row.not_before is None or row.not_before <= now)
            and subscription.active
            and self.states.state(subscription.chat).reachable
        )

    def _recipient(self, row: DeliveryRow) -> Recipient:
        subscription = self._subscription(row)
        lang = self.states.state(subscription.chat).lang or self.states.default_lang
        return Recipient(
            subscription.id,
            subscription.chat,
            lang,
            subscription.subscription.at,
            subscription.subscription.timezone,
        )

    def _note(self, event: str, row: DeliveryRow) -> None:
        chat = self._subscription(row).chat
        self.transcript.append(f"{event} {row.digest_key} {chat.platform}:{chat.key}")


def memory_ports(default_lang: Lang = "en") -> tuple[MemoryChatStates, MemoryLedger]:
    """Chat states and a ledger over the same tables, as storage gives them over one database."""
    states = MemoryChatStates(default_lang)
    return states, MemoryLedger(states)


if TYPE_CHECKING:
    # mypy checks here that both classes satisfy the ports they stand in for.
    _states: ChatStates = MemoryChatStates()
    _ledger: DeliveryLedger = MemoryLedger(MemoryChatStates())
