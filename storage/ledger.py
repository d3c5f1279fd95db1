"""Subscriptions and the delivery ledger: who gets which digest, and who sends it.

Implements `briefings.ports.DeliveryLedger` for the dispatcher, plus what the scheduler and the
CLI need (planning, recovery, liveness, reading). Subscriptions themselves are written through
`storage.chats.SqlChatStates`: they belong to a chat's state.

One row per (subscription, digest), unique, decides everything: a row is claimed by exactly one
process before sending (PostgreSQL: `FOR UPDATE SKIP LOCKED`), so a digest goes out once across
restarts and across processes. A digest of several messages gets a row per part sent
(`delivery_parts`), so that a retry resumes from the first part not sent.

A process that dies mid-send leaves its rows `sending`; they return to `pending` once the
database says their owner is gone. PostgreSQL: the owner's lease in `delivery_owners` ran out
by PostgreSQL's clock. The owner renews it in every transaction that claims or finishes rows
and from a heartbeat in between, so it outlives any one connection: a session advisory lock,
as before, was lost with its connection (`pg_terminate_backend`, a network blip) while the
process went on sending, and another process took its rows back and sent them again. SQLite,
which serves one process: any owner but us.
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Select,
    and_,
    bindparam,
    delete,
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
from briefings.ports import ChatRef, Claimed, PartSent, Recipient, Settled
from briefings.schedule import Digest, due_at
from storage.schema import Base, Chat, Delivery, DeliveryOwner, DeliveryPart, Subscription

log = logging.getLogger(__name__)
AnySelect = Select[*tuple[Any, ...]]
# How long an owner stays alive without renewing. Long beside the heartbeat (a quarter of it) and
# a transaction, so that a busy loop or a reconnect does not lose it; short enough that the
# rows of a process that died are sent again within a couple of minutes.
LEASE = timedelta(seconds=60)
# Subscriptions read and planned at a time: memory stays bounded whatever their number.
PLAN_BATCH = 5000
# Planning runs in every process at start-up: when another one wrote the same rows first, the
# plan is rolled back and made again (it then skips them). Two or three processes starting
# together need a second attempt at most; more attempts than this is a fault worth raising.
PLAN_ATTEMPTS = 5


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
    def __init__(self, engine: Engine, owner: str, lease: timedelta = LEASE) -> None:
        self._engine = engine
        self.owner = owner
        self._postgres = engine.dialect.name == "postgresql"
        self._lease = lease
        # Whether this ledger held a lease before: losing it later is worth a warning.
        self._established = False

    @property
    def lease(self) -> timedelta:
        return self._lease

    # --- liveness -------------------------------------------------------------------------

    def hold_owner_lock(self) -> bool:
        """Take or renew this process's lease (PostgreSQL); whether it had lapsed (or never was).

        Called by the heartbeat between transactions; claiming and finishing rows renew it in
        their own transaction too, so that no row is claimed or settled under a lapsed lease.
        """
        if not self._postgres:
            return False
        with Session(self._engine) as session, session.begin():
            return self._renew(session)

    def release_owner_lock(self) -> None:
        """Stopping: our rows still `sending` (a drain that ran out of time) go back to others."""
        if not self._postgres:
            return
        with Session(self._engine) as session, session.begin():
            session.execute(delete(DeliveryOwner).where(DeliveryOwner.owner == self.owner))

    def _renew(self, session: Session) -> bool:
        """Within `session`'s transaction: extend our lease by PostgreSQL's clock; whether it
        had lapsed. The owner row stays locked until the transaction ends, so a process
        recovering rows either sees the renewed lease or makes us wait until it is done (and
        then what it took back is no longer ours: settling it changes nothing)."""
        if not self._postgres:
            return False
        live = session.execute(
            text("select lease_until > now() from delivery_owners where owner = :owner for update"),
            {"owner": self.owner},
        ).scalar_one_or_none()
        statement = postgresql.insert(DeliveryOwner).values(
            owner=self.owner,
            lease_until=text("now() + make_interval(secs => :lease)").bindparams(
                lease=self._lease.total_seconds()
            ),
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["owner"], set_={"lease_until": statement.excluded.lease_until}
            )
        )
        if live is None or not live:
            if self._established:
                log.warning("our lease had lapsed (owner %s): re-established", self.owner)
            self._established = True
            return True
        return False

    def recover(self) -> int:
        """Return rows left `sending` by dead processes to `pending`; how many.

        Dead, on PostgreSQL: no lease, or one that ran out; a live owner's rows never move,
        whatever became of its connections. Safe to call on every tick.
        """
        with Session(self._engine) as session, session.begin():
            if self._postgres:
                self._renew(session)
                # Locked: an owner renewing now waits for us, or we see its renewal.
                lapsed = session.scalars(
                    select(DeliveryOwner.owner)
                    .where(DeliveryOwner.lease_until <= func.now())
                    .with_for_update()
                ).all()
                if lapsed:
                    session.execute(delete(DeliveryOwner).where(DeliveryOwner.owner.in_(lapsed)))
                live = select(DeliveryOwner.owner)
                dead = and_(Delivery.owner.is_not(None), Delivery.owner.not_in(live))
            else:
                # SQLite serves one process: any other owner is a previous run.
                dead = Delivery.owner != self.owner
            result = session.execute(
                update(Delivery)
                .where(Delivery.status == "sending", dead)
                .values(status="pending", owner=None)
                .returning(Delivery.owner)
            )
            owners = [owner for (owner,) in result]
        if owners:
            log.warning(
                "requeued %d deliveries left in flight by %d stopped process(es)",
                len(owners),
                len(set(owners)),
            )
        return len(owners)

    # --- planning -------------------------------------------------------------------------

    def plan_all(
        self, plans: Mapping[str, Sequence[Digest]], now: datetime, batch: int = PLAN_BATCH
    ) -> int:
        """Add any missing future rows for every live subscription (idempotent); how many.

        `plans` maps a partnership to the digests of all its dated visits. Chats that are
        unreachable get their rows too: they wait, pending, until the chat is back.

        Subscriptions are read `batch` at a time by id, so memory does not grow with their
        number (100,000 ORM objects and their half a million row dicts took 470 MB), and many
        chats share a time and a zone, so the rows still to come are worked out once per
        (partnership, time, zone). The rows go to the database in bulk: on PostgreSQL by
        binary COPY straight into the ledger, once the batch's rows already there are left out
        (a hundred times the rows a second of multi-row INSERTs); on SQLite, which has no COPY,
        by one executemany per batch. One transaction: a plan is written whole or not at all,
        and a row that exists already (this runs at every start, in every process) is left as
        it is.
        """
        planned = _PlannedTimes(plans, now)
        for _ in range(PLAN_ATTEMPTS - 1):
            try:
                return self._plan_once(planned, batch)
            except _PlannedElsewhere:
                # Rolled back whole; the other process's rows are committed now, and skipped.
                log.info("another process planned the same rows first: planning again")
        return self._plan_once(planned, batch)

    def _plan_once(self, planned: "_PlannedTimes", batch: int) -> int:
        with Session(self._engine) as session, session.begin():
            connection = session.connection()
            rows: _PlannedRows = (
                _CopiedRows(connection)
                if self._engine.dialect.driver == "psycopg"
                else _InsertedRows(connection)
            )
            after, added = 0, 0
            while True:
                subs = connection.execute(
                    select(
                        Subscription.id,
                        Subscription.partnership_id,
                        Subscription.local_time,
                        Subscription.timezone,
                    )
                    .where(Subscription.cancelled_at.is_(None), Subscription.id > after)
                    .order_by(Subscription.id)
                    .limit(batch)
                ).all()
                if not subs:
                    return added
                after = subs[-1].id
                added += rows.add(
                    [
                        (sub_id, key, at)
                        for sub_id, partnership, local_time, zone in subs
                        for key, at in planned(partnership, local_time, zone)
                    ]
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
            # Renewed first, in this transaction: nothing is claimed under a lapsed lease.
            self._renew(session)
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
            # Parts go out in order, each recorded before the next: their count is where to resume.
            parts_sent = (
                select(func.count())
                .where(DeliveryPart.delivery_id == Delivery.id)
                .correlate(Delivery)
                .scalar_subquery()
            )
            rows = session.execute(
                _with_recipient(
                    select(
                        Delivery.id,
                        Delivery.digest_key,
                        Delivery.due_at,
                        Delivery.attempts,
                        parts_sent.label("parts_sent"),
                    )
                )
                .where(Delivery.id.in_(ids))
                .order_by(Delivery.due_at, Delivery.id)
            ).all()
            return [
                Claimed(r.id, r.digest_key, r.due_at, r.attempts, _recipient(r), r.parts_sent)
                for r in rows
            ]

    def settle(self, outcomes: Sequence[Settled | PartSent]) -> None:
        """Write what became of many deliveries, and the parts sent, in one transaction;
        `blocked` also marks the chat unreachable, so that its other digests wait for it rather
        than fail one by one. Only rows we still own: one taken back from us while our lease
        had lapsed is someone else's now.

        A commit per delivery costs a disk flush each on SQLite, and the dispatcher writes
        the outcomes of a few milliseconds together.
        """
        parts = [p for p in outcomes if isinstance(p, PartSent)]
        settled = [o for o in outcomes if isinstance(o, Settled)]
        if not settled and not parts:
            return
        mine = and_(Delivery.id == bindparam("b_id"), Delivery.owner == self.owner)
        done = [
            {"b_id": o.delivery_id, "b_status": o.status, "b_at": o.at, "b_detail": _cut(o.detail)}
            for o in settled
            if o.status != "pending"
        ]
        again = [
            {"b_id": o.delivery_id, "b_at": o.at, "b_detail": _cut(o.detail)}
            for o in settled
            if o.status == "pending"
        ]
        blocked = [o.delivery_id for o in settled if o.status == "blocked"]
        # A plain executemany on the session's connection: the ORM takes a list of parameters
        # for its bulk update by primary key, which refuses the owner condition.
        with Session(self._engine) as session, session.begin():
            # Renewed first: a process whose lease lapsed re-establishes it before finishing.
            self._renew(session)
            connection = session.connection()
            if parts:
                owned = set(
                    connection.scalars(
                        select(Delivery.id).where(
                            Delivery.id.in_({p.delivery_id for p in parts}),
                            Delivery.owner == self.owner,
                            Delivery.status == "sending",
                        )
                    )
                )
                rows = [
                    {"delivery_id": p.delivery_id, "part": p.part, "sent_at": p.at}
                    for p in parts
                    if p.delivery_id in owned
                ]
                if rows:
                    connection.execute(
                        _insert_into(session, DeliveryPart)
                        .values(rows)
                        .on_conflict_do_nothing(index_elements=["delivery_id", "part"])
                    )
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
    return _insert_into(session, Delivery)


def _insert_into(session: Session, table: type[Base]) -> postgresql.Insert | sqlite.Insert:
    return _insert_into_dialect(session.get_bind().dialect.name, table)


def _insert_into_dialect(dialect: str, table: type[Base]) -> postgresql.Insert | sqlite.Insert:
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


_Row = tuple[int, str, datetime]


class _PlannedRows(Protocol):
    """Where `plan_all` puts the rows it planned, within its transaction."""

    def add(self, rows: Sequence[_Row]) -> int:
        """Write the rows not there yet; how many they were."""
        ...


class _InsertedRows:
    """Any database: INSERT ... ON CONFLICT DO NOTHING, one executemany per batch, which
    SQLAlchemy sends as multi-row INSERTs (insertmanyvalues) of one statement compiled once."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        # RETURNING counts the rows added: rowcount is not summed over insertmanyvalues pages.
        self._statement = (
            _insert_into_dialect(connection.dialect.name, Delivery)
            .on_conflict_do_nothing(index_elements=["subscription_id", "digest_key"])
            .returning(Delivery.id)
        )

    def add(self, rows: Sequence[_Row]) -> int:
        if not rows:
            return 0
        parameters = [{"subscription_id": s, "digest_key": k, "due_at": d} for s, k, d in rows]
        return len(self._connection.execute(self._statement, parameters).all())


class _PlannedElsewhere(Exception):
    """Another process wrote some of the rows this plan was writing, and committed first."""


class _CopiedRows:
    """PostgreSQL with psycopg: each batch's new rows by binary COPY straight into the ledger.

    COPY knows no ON CONFLICT, so the rows already there are read first (one range of the
    unique index per batch) and left out. A process planning the same subscriptions at the
    same time makes our COPY wait on its rows, then fail on them once it commits: that is
    `_PlannedElsewhere`, and `plan_all` plans again. Every process writes the rows in one order
    (subscriptions by id, each plan's digests as the plan lists them), so that two processes
    take the unique index's locks in the same order and neither deadlocks.
    """

    def __init__(self, connection: Connection) -> None:
        # psycopg's own connection, in the session's transaction: SQLAlchemy has no COPY.
        self._cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]

    def add(self, rows: Sequence[_Row]) -> int:
        if not rows:
            return 0
        self._cursor.execute(
            "select subscription_id, digest_key from deliveries "
            "where subscription_id between %s and %s",
            (rows[0][0], rows[-1][0]),
        )
        there = set(self._cursor.fetchall())
        new = [row for row in rows if row[:2] not in there] if there else rows
        if not new:
            return 0
        from psycopg.errors import UniqueViolation

        try:
            # In COPY's binary format, each value by its type's dumper in psycopg's C
            # extension: the text format wrote every timestamp as a string, five times the time.
            with self._cursor.copy(
                "copy deliveries (subscription_id, digest_key, due_at, status, attempts) "
                "from stdin (format binary)"
            ) as copy:
                copy.set_types(["int4", "varchar", "timestamptz", "varchar", "int4"])
                for sub_id, key, at in new:
                    copy.write_row((sub_id, key, at, "pending", 0))
        except UniqueViolation as exc:
            raise _PlannedElsewhere() from exc
        return len(new)


class _PlannedTimes:
    """A subscription's rows still to come, (digest key, due_at), per (partnership, HH:MM,
    zone), worked out once: a hundred thousand subscriptions share a handful of times and
    zones, and looking each digest up for each of them cost more than writing its row."""

    def __init__(self, plans: Mapping[str, Sequence[Digest]], now: datetime) -> None:
        self._plans, self._now = plans, now
        self._known: dict[tuple[str, str, str], list[tuple[str, datetime]]] = {}

    def __call__(
        self, partnership: str, local_time: str, timezone: str
    ) -> list[tuple[str, datetime]]:
        key = (partnership, local_time, timezone)
        found = self._known.get(key)
        if found is None:
            at = to_time(local_time)
            found = self._known[key] = [
                (digest.key, due)
                for digest in self._plans.get(partnership, ())
                if (due := due_at(digest, at, timezone)) > self._now
            ]
        return found


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
