"""Subscriptions and the delivery ledger: who gets which digest, and who sends it.

Implements `briefings.ports.DeliveryLedger` for the dispatcher, plus what the scheduler and the
CLI need (planning, recovery, liveness, reading). Subscriptions themselves are written through
`storage.chats.SqlChatStates`: they belong to a chat's state.

One row per (subscription, digest), unique, decides everything: a row is claimed by exactly one
process before sending (PostgreSQL: `FOR UPDATE SKIP LOCKED`), so a digest goes out once across
restarts and across processes. A process that dies mid-send leaves its rows `sending`; they
return to `pending` once the database says their owner is gone (PostgreSQL: the owner's session
advisory lock is free; SQLite, which serves one process: any owner but us).
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Select,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression

from briefings.languages import DEFAULT_LANG, is_lang
from briefings.ports import ChatRef, Claimed, Recipient, Settled
from briefings.schedule import Digest, due_at
from storage.schema import Chat, Delivery, Subscription

log = logging.getLogger(__name__)
AnySelect = Select[*tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """A ledger row as `briefing-bot schedule` and `deliveries` show it."""

    digest_key: str
    due_at: datetime
    status: str
    attempts: int
    finished_at: datetime | None
    detail: str | None
    recipient: Recipient


class Ledger:
    def __init__(self, engine: Engine, owner: str) -> None:
        self._engine = engine
        self.owner = owner
        self._postgres = engine.dialect.name == "postgresql"
        self._owner_lock: Connection | None = None

    # --- liveness -------------------------------------------------------------------------

    def hold_owner_lock(self) -> None:
        """Tell other processes we are alive for as long as this connection lives (PostgreSQL)."""
        if self._postgres and self._owner_lock is None:
            connection = self._engine.connect()
            connection.execute(
                text("select pg_advisory_lock(hashtextextended(:owner, 0))"), {"owner": self.owner}
            )
            connection.commit()
            self._owner_lock = connection

    def release_owner_lock(self) -> None:
        if self._owner_lock is not None:
            # Closing returns the connection to the pool with its session (and lock) alive.
            self._owner_lock.execute(text("select pg_advisory_unlock_all()"))
            self._owner_lock.commit()
            self._owner_lock.close()
            self._owner_lock = None

    def recover(self) -> int:
        """Return rows left `sending` by dead processes to `pending`; how many."""
        with Session(self._engine) as session, session.begin():
            owners = session.scalars(
                select(Delivery.owner)
                .where(Delivery.status == "sending", Delivery.owner != self.owner)
                .distinct()
            ).all()
            dead = [o for o in owners if o is not None and self._is_dead(session, o)]
            if not dead:
                return 0
            result = session.execute(
                update(Delivery)
                .where(Delivery.status == "sending", Delivery.owner.in_(dead))
                .values(status="pending", owner=None)
            )
        count: int = result.rowcount  # type: ignore[attr-defined]
        log.warning(
            "requeued %d deliveries left in flight by %d stopped process(es)", count, len(dead)
        )
        return count

    def _is_dead(self, session: Session, owner: str) -> bool:
        if not self._postgres:
            return True  # SQLite serves one process: any other owner is a previous run.
        got = session.execute(
            text("select pg_try_advisory_xact_lock(hashtextextended(:owner, 0))"), {"owner": owner}
        ).scalar_one()
        return bool(got)

    # --- planning -------------------------------------------------------------------------

    def plan_all(self, plans: Mapping[str, Sequence[Digest]], now: datetime) -> None:
        """Add any missing future rows for every live subscription (idempotent).

        `plans` maps a partnership to the digests of all its dated visits. Chats that are
        unreachable get their rows too: they wait, pending, until the chat is back.
        """
        with Session(self._engine) as session, session.begin():
            subs = session.scalars(
                select(Subscription).where(Subscription.cancelled_at.is_(None))
            ).all()
            rows = [
                {"subscription_id": s.id, "digest_key": d.key, "due_at": due}
                for s in subs
                for d in plans.get(s.partnership_id, ())
                if (due := due_at(d, to_time(s.local_time), s.timezone)) > now
            ]
            for start in range(0, len(rows), 500):
                batch = rows[start : start + 500]
                session.execute(
                    _insert(session)
                    .values(batch)
                    .on_conflict_do_nothing(index_elements=["subscription_id", "digest_key"])
                )

    # --- delivering -------------------------------------------------------------------------

    def skip_missed(self, now: datetime, grace: timedelta) -> list[str]:
        """Rows whose time passed more than `grace` ago are not sent late: mark and report them.

        Rows of unreachable chats too: a chat that unblocks the bot days later gets the digests
        still to come, not a backlog.
        """
        with Session(self._engine) as session, session.begin():
            result = session.execute(
                update(Delivery)
                .where(Delivery.status == "pending", Delivery.due_at < now - grace)
                .values(status="skipped", finished_at=now, detail=f"missed by more than {grace}")
                .returning(Delivery.digest_key, Delivery.subscription_id)
            )
            return [f"{key} for subscription {sub}" for key, sub in result]

    def claim(self, now: datetime, limit: int) -> list[Claimed]:
        """Take up to `limit` due rows of reachable chats for this process; nobody else can
        take them now. Each comes with its chat's language as it is now, not as it was when
        the chat subscribed."""
        with Session(self._engine) as session, session.begin():
            ids = session.scalars(
                select(Delivery.id)
                .join(Subscription, Subscription.id == Delivery.subscription_id)
                .join(Chat, Chat.id == Subscription.chat_id)
                .where(
                    Delivery.status == "pending",
                    Delivery.due_at <= now,
                    or_(Delivery.not_before.is_(None), Delivery.not_before <= now),
                    Subscription.cancelled_at.is_(None),
                    Chat.reachable,
                )
                .order_by(Delivery.due_at, Delivery.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=Delivery)
            ).all()
            if not ids:
                return []
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids))
                .values(status="sending", owner=self.owner, attempts=Delivery.attempts + 1)
            )
            rows = session.execute(
                _with_recipient(
                    select(Delivery.id, Delivery.digest_key, Delivery.due_at, Delivery.attempts)
                )
                .where(Delivery.id.in_(ids))
                .order_by(Delivery.due_at, Delivery.id)
            ).all()
            return [Claimed(r.id, r.digest_key, r.due_at, r.attempts, _recipient(r)) for r in rows]

    def settle(self, outcomes: Sequence[Settled]) -> None:
        """Write what became of many deliveries in one transaction; `blocked` also marks the
        chat unreachable, so that its other digests wait for it rather than fail one by one.

        A commit per delivery costs a disk flush each on SQLite, and the dispatcher writes
        the outcomes of a few milliseconds together.
        """
        if not outcomes:
            return
        mine = and_(Delivery.id == bindparam("b_id"), Delivery.owner == self.owner)
        done = [
            {"b_id": o.delivery_id, "b_status": o.status, "b_at": o.at, "b_detail": _cut(o.detail)}
            for o in outcomes
            if o.status != "pending"
        ]
        again = [
            {"b_id": o.delivery_id, "b_at": o.at, "b_detail": _cut(o.detail)}
            for o in outcomes
            if o.status == "pending"
        ]
        blocked = [o.delivery_id for o in outcomes if o.status == "blocked"]
        # A plain executemany on the session's connection: the ORM takes a list of parameters
        # for its bulk update by primary key, which refuses the owner condition.
        with Session(self._engine) as session, session.begin():
            connection = session.connection()
            if blocked:
                chats = (
                    select(Subscription.chat_id)
                    .join(Delivery, Delivery.subscription_id == Subscription.id)
                    .where(Delivery.id.in_(blocked), Delivery.owner == self.owner)
                )
                connection.execute(update(Chat).where(Chat.id.in_(chats)).values(reachable=False))
            if done:
                connection.execute(
                    update(Delivery)
                    .where(mine)
                    .values(
                        status=bindparam("b_status"),
                        finished_at=bindparam("b_at"),
                        detail=bindparam("b_detail"),
                    ),
                    done,
                )
            if again:
                connection.execute(
                    update(Delivery)
                    .where(mine)
                    .values(
                        status="pending",
                        owner=None,
                        not_before=bindparam("b_at"),
                        detail=bindparam("b_detail"),
                    ),
                    again,
                )

    # --- reading ----------------------------------------------------------------------------

    def upcoming(self, now: datetime, limit: int = 100) -> list[DeliveryRow]:
        return self._rows(
            and_(Delivery.status == "pending", Delivery.due_at >= now),
            [Delivery.due_at.asc(), Delivery.id.asc()],
            limit,
        )

    def recent(self, limit: int = 50) -> list[DeliveryRow]:
        return self._rows(
            Delivery.status.not_in(["pending"]),
            [func.coalesce(Delivery.finished_at, Delivery.due_at).desc(), Delivery.id.desc()],
            limit,
        )

    def counts(self) -> dict[str, int]:
        with Session(self._engine) as session:
            rows = session.execute(
                select(Delivery.status, func.count()).group_by(Delivery.status)
            ).all()
            return {status: count for status, count in rows}

    def _rows(
        self, where: ColumnElement[bool], order: list[UnaryExpression[Any]], limit: int
    ) -> list[DeliveryRow]:
        with Session(self._engine) as session:
            rows = session.execute(
                _with_recipient(
                    select(
                        Delivery.digest_key,
                        Delivery.due_at,
                        Delivery.status,
                        Delivery.attempts,
                        Delivery.finished_at,
                        Delivery.detail,
                    )
                )
                .where(where)
                .order_by(*order)
                .limit(limit)
            ).all()
            return [
                DeliveryRow(
                    r.digest_key,
                    r.due_at,
                    r.status,
                    r.attempts,
                    r.finished_at,
                    r.detail,
                    _recipient(r),
                )
                for r in rows
            ]


def plan_pending(
    session: Session,
    *,
    subscription_id: int,
    at: time,
    timezone: str,
    plan: Iterable[Digest],
    now: datetime,
) -> None:
    """Rows for the digests of `plan` still to come; pending ones move to the new time, while
    rows already sent, failed or skipped stay as they are (and are not sent again)."""
    rows = [
        {"subscription_id": subscription_id, "digest_key": d.key, "due_at": due}
        for d in plan
        if (due := due_at(d, at, timezone)) > now
    ]
    if not rows:
        return
    statement = _insert(session).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["subscription_id", "digest_key"],
        set_={"due_at": statement.excluded.due_at, "not_before": None},
        where=Delivery.status == "pending",
    )
    session.execute(statement)


def _insert(session: Session) -> postgresql.Insert | sqlite.Insert:
    dialect = session.get_bind().dialect.name
    return postgresql.insert(Delivery) if dialect == "postgresql" else sqlite.insert(Delivery)


def _with_recipient(query: AnySelect) -> AnySelect:
    """Join a query on deliveries to what makes its recipient: subscription and chat."""
    return (
        query.add_columns(
            Delivery.subscription_id,
            Chat.platform,
            Chat.chat_key,
            Chat.lang,
            Subscription.local_time,
            Subscription.timezone,
        )
        .select_from(Delivery)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .join(Chat, Chat.id == Subscription.chat_id)
    )


def _recipient(row: Row[Any]) -> Recipient:
    return Recipient(
        subscription_id=row.subscription_id,
        chat=ChatRef(row.platform, row.chat_key),
        # A chat that never chose a language with /lang has none stored: its digests go out in
        # the default (English). The conversation service may store the asker's language when
        # the chat subscribes, so that a digest follows it.
        lang=row.lang if is_lang(row.lang) else DEFAULT_LANG,
        at=to_time(row.local_time),
        timezone=row.timezone,
    )


def _cut(detail: str | None) -> str | None:
    return detail and detail[:200]


def hhmm(at: time) -> str:
    return f"{at.hour:02d}:{at.minute:02d}"


def to_time(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))
