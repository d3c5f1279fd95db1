"""The chats' state in SQL: `briefings.ports.ChatStates`.

A chat's language, chosen visit, reachability and subscription live in one row and the rows
that hang off it (`chats.id`), so a group that becomes a supergroup or a chat that unblocks the
bot moves or resumes everything at once, and a language change reaches the digests (the ledger
reads the chat's language when it claims one). Short transactions, one per call.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session

from briefings.languages import Lang, is_lang
from briefings.ports import (
    ChatRef,
    ChatState,
    DeliveryProblem,
    Subscription,
)
from briefings.schedule import Digest
from storage.driver import DriverStatement, driver_cursor
from storage.errors import outage_mapped
from storage.ledger import hhmm, plan_pending, to_time
from storage.schema import Chat, Delivery
from storage.schema import Subscription as SubscriptionRow

# The one read every update makes. Both bound statuses are plain parameters (not an expanding
# IN), so the statement compiles once per dialect to one string; see `_StateRead`.
# The live subscription's last digest that never reached the chat, for /subscriptions.
_PROBLEM = (
    select(Delivery.id)
    .where(
        Delivery.subscription_id == SubscriptionRow.id,
        or_(Delivery.status == "failed", Delivery.status == "rejected"),
    )
    .order_by(Delivery.finished_at.desc(), Delivery.id.desc())
    .limit(1)
    .correlate(SubscriptionRow)
    .scalar_subquery()
)
_STATE = (
    select(
        Chat.lang,
        Chat.visit_id,
        Chat.reachable,
        SubscriptionRow.partnership_id,
        SubscriptionRow.local_time,
        SubscriptionRow.timezone,
        SubscriptionRow.subscriber,
        Delivery.digest_key.label("problem_key"),
        Delivery.status.label("problem_status"),
        Delivery.finished_at.label("problem_at"),
    )
    .outerjoin(
        SubscriptionRow,
        (SubscriptionRow.chat_id == Chat.id) & SubscriptionRow.cancelled_at.is_(None),
    )
    .outerjoin(Delivery, Delivery.id == _PROBLEM)
    .where(Chat.platform == bindparam("platform"), Chat.chat_key == bindparam("key"))
    # One partnership today; should a chat hold several, the port must say which.
    .order_by(SubscriptionRow.id)
    .limit(1)
)


class _StateRead:
    """`_STATE`, compiled once for the engine's dialect and run on the driver's own cursor.

    Every update reads its chat's state, and SQLAlchemy's execution path (a `Connection`, an
    execution context, the result object) cost several times the query on SQLite: most of
    what our adapter added to a Telegram round trip. The statement is still SQLAlchemy's,
    compiled by the dialect, and each column goes through its type's own result processor, so
    the values are those `Connection.execute` returns. Pooling (and pre-ping) is the engine's.
    """

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect
        self._statement = DriverStatement(_STATE, dialect)
        # Every parameter but the chat's is a constant of the statement (the statuses, LIMIT).
        self._constants = self._statement.compiled.construct_params({"platform": "", "key": ""})
        self._processors = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in _STATE.selected_columns
        ]
        self._engine = engine

    def __call__(self, chat: ChatRef) -> tuple[Any, ...] | None:
        params = {**self._constants, "platform": chat.platform, "key": chat.key}
        with driver_cursor(self._engine) as (_, cursor):
            cursor.execute(self._statement.sql, self._statement.bound(params))
            row = cursor.fetchone()
        if row is None:
            return None
        return tuple(
            value if process is None else process(value)
            for value, process in zip(row, self._processors, strict=True)
        )


class SqlChatStates:
    """A database outage raises `StorageUnavailable` from every method (see storage/errors.py)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._read = _StateRead(engine)

    def state(self, chat: ChatRef) -> ChatState:
        """One read, as every update asks: the chat and its live subscription, joined."""
        row = self._read(chat)
        if row is None:
            return ChatState()
        (lang, visit, reachable, partnership, local_time, timezone, subscriber) = row[:7]
        problem_key, problem_status, problem_at = row[7:]
        subscription = None
        if partnership is not None:
            subscription = Subscription(partnership, to_time(local_time), timezone, subscriber)
        problem = None
        if problem_key is not None and problem_status in ("failed", "rejected"):
            problem = DeliveryProblem(problem_key, problem_status, problem_at)
        return ChatState(
            lang=lang if is_lang(lang) else None,
            visit=visit,
            reachable=bool(reachable),
            subscription=subscription,
            problem=problem,
        )

    @outage_mapped
    def set_lang(self, chat: ChatRef, lang: Lang) -> None:
        with Session(self._engine) as session, session.begin():
            _get_or_create(session, chat).lang = lang

    @outage_mapped
    def set_visit(self, chat: ChatRef, visit: str | None) -> None:
        with Session(self._engine) as session, session.begin():
            _get_or_create(session, chat).visit_id = visit

    @outage_mapped
    def set_reachable(self, chat: ChatRef, reachable: bool) -> None:
        """Back to reachable, the chat's pending digests are claimable again (the ledger only
        claims rows of reachable chats); those missed meanwhile beyond the grace were skipped."""
        with Session(self._engine) as session, session.begin():
            _get_or_create(session, chat).reachable = reachable

    @outage_mapped
    def migrate(self, old: ChatRef, new_key: str) -> None:
        """The old row takes the new key, so its subscription and delivery history follow.

        Should the new id already have a row (a message from the supergroup arrived first),
        what was set there is newer and wins; what it lacks comes from the old chat; a
        subscription made there is kept only where the old chat had none live.
        """
        with Session(self._engine) as session, session.begin():
            moving = _get(session, old)
            if moving is None or old.key == new_key:
                return
            there = _get(session, ChatRef(old.platform, new_key))
            if there is not None:
                moving.lang = there.lang or moving.lang
                moving.visit_id = there.visit_id or moving.visit_id
                moving.reachable = there.reachable
                for sub in _subscriptions(session, there.id):
                    _adopt(session, moving.id, sub)
                session.delete(there)
                session.flush()
            moving.chat_key = new_key

    @outage_mapped
    def subscribe(
        self, chat: ChatRef, subscription: Subscription, plan: Sequence[Digest], now: datetime
    ) -> None:
        """Reuses a cancelled row for the same partnership: its sent deliveries then keep the
        same digests from going out again; pending ones move to the new time."""
        with Session(self._engine) as session, session.begin():
            row = _get_or_create(session, chat)
            session.flush()
            sub = session.scalars(
                select(SubscriptionRow).where(
                    SubscriptionRow.chat_id == row.id,
                    SubscriptionRow.partnership_id == subscription.partnership,
                )
            ).one_or_none()
            if sub is None:
                sub = SubscriptionRow(chat_id=row.id, partnership_id=subscription.partnership)
                session.add(sub)
            sub.local_time = hhmm(subscription.at)
            sub.timezone = subscription.timezone
            sub.subscriber = subscription.subscriber
            sub.cancelled_at = None
            session.flush()
            plan_pending(
                session,
                subscription_id=sub.id,
                at=subscription.at,
                timezone=subscription.timezone,
                plan=plan,
                now=now,
            )

    @outage_mapped
    def unsubscribe(self, chat: ChatRef) -> bool:
        """The row stays, cancelled, with its sent deliveries: see `subscribe`."""
        with Session(self._engine) as session, session.begin():
            row = _get(session, chat)
            live = [] if row is None else _subscriptions(session, row.id)
            for sub in live:
                session.execute(
                    delete(Delivery).where(
                        Delivery.subscription_id == sub.id, Delivery.status == "pending"
                    )
                )
                sub.cancelled_at = func.now()
            return bool(live)


def _get(session: Session, chat: ChatRef) -> Chat | None:
    return session.scalars(
        select(Chat).where(Chat.platform == chat.platform, Chat.chat_key == chat.key)
    ).one_or_none()


def _get_or_create(session: Session, chat: ChatRef) -> Chat:
    row = _get(session, chat)
    if row is None:
        row = Chat(platform=chat.platform, chat_key=chat.key, reachable=True)
        session.add(row)
    return row


def _adopt(session: Session, chat_id: int, sub: SubscriptionRow) -> None:
    """Move a live subscription onto the chat `chat_id`, which may hold one for the same
    partnership already: a live one stays as it is; a cancelled one (history) is renewed with
    `sub`'s settings and takes over its deliveries, but for digests it already has a row for."""
    mine = session.scalars(
        select(SubscriptionRow).where(
            SubscriptionRow.chat_id == chat_id,
            SubscriptionRow.partnership_id == sub.partnership_id,
        )
    ).one_or_none()
    if mine is None:
        sub.chat_id = chat_id
    elif mine.cancelled_at is not None:
        mine.local_time, mine.timezone = sub.local_time, sub.timezone
        mine.subscriber, mine.cancelled_at = sub.subscriber, None
        known = select(Delivery.digest_key).where(Delivery.subscription_id == mine.id)
        session.execute(
            update(Delivery)
            .where(Delivery.subscription_id == sub.id, Delivery.digest_key.not_in(known))
            .values(subscription_id=mine.id)
        )
    session.flush()


def _subscriptions(session: Session, chat_id: int) -> list[SubscriptionRow]:
    """The chat's live subscriptions."""
    return list(
        session.scalars(
            select(SubscriptionRow).where(
                SubscriptionRow.chat_id == chat_id, SubscriptionRow.cancelled_at.is_(None)
            )
        )
    )
