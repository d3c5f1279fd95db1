"""Send the digests that are due: claim rows in the ledger, render each in its reader's
language at send time, hand it to the platform's sender, record the outcome.

No scheduler and no platform here: the clock calls `run_once(now)`, the adapters provide
`DigestSender`s. A missed digest is sent late within the grace period, otherwise skipped and
logged; a failed send is retried later with back-off; a blocked chat is marked unreachable by the
ledger, and its digests wait until it is back. The ledger is a port: no storage is imported here.

A digest may be several messages (parts). Each part that goes out is recorded before the next
is sent, and a retry resumes from the first part not sent: a chat never gets part 1 twice
because part 2 met a flood limit. A part the platform refuses for good (`REJECTED`, a 4xx) ends
that digest for that chat: retrying would change nothing.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Protocol

from briefings.digests import digest_reply
from briefings.knowledge import known_articles
from briefings.library import Library
from briefings.ports import Claimed, DeliveryLedger, PartSent, Settled
from briefings.replies import Reply
from briefings.schedule import Digest

log = logging.getLogger(__name__)


class Outcome(Enum):
    SENT = "sent"
    BLOCKED = "blocked"  # the chat blocked or removed the bot
    FAILED = "failed"  # worth trying again later
    REJECTED = "rejected"  # refused for good (a 4xx): trying again would change nothing


class Parts:
    """One digest's parts for one chat, as a sender goes through them: where to start, a record
    of each part that goes out, and the platform's words for the one that did not."""

    def __init__(
        self, first: int = 0, record: Callable[[int, int], Awaitable[None]] | None = None
    ) -> None:
        self.first = first
        self._record = record
        self.detail: str | None = None

    async def sent(self, part: int, total: int) -> None:
        """Part `part` (from 0) of `total` went out; returns once it is on record, so that the
        next part is sent only when a retry or a restart would not repeat this one."""
        if self._record is not None:
            await self._record(part, total)

    def refused(self, part: int, total: int, why: str) -> None:
        """Part `part` did not go out, for the reason the platform gave (kept in the ledger)."""
        self.detail = f"part {part + 1} of {total}: {why}" if total > 1 else why


class DigestSender(Protocol):
    async def deliver(self, chat_key: str, reply: Reply, parts: Parts) -> Outcome:
        """Send the parts of `reply` from `parts.first` on, in order, reporting each one sent
        with `parts.sent`; the first that does not go out decides the outcome."""
        ...


@dataclass
class Report:
    sent: int = 0
    blocked: int = 0
    retried: int = 0
    failed: int = 0
    rejected: int = 0
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    grace: timedelta = timedelta(hours=2)
    # Rows claimed at a time; more are claimed as soon as the sends waiting for a place run low.
    batch: int = 100
    # Sends under way at once, each from its first attempt until its outcome is written: a crash
    # repeats at most this many. A send waiting out a 429 or a back-off keeps its place, so this
    # must cover the send rate times the time a send takes, retries included, or a fan-out with
    # a few retries falls behind the rate cap.
    concurrency: int = 64
    max_attempts: int = 5
    first_retry: timedelta = timedelta(seconds=30)


class Dispatcher:
    def __init__(
        self,
        ledger: DeliveryLedger,
        library: Library,
        senders: Mapping[str, DigestSender],
        clock: Callable[[], datetime],
        policy: DeliveryPolicy | None = None,
    ) -> None:
        self._ledger = ledger
        self._library = library
        self._senders = senders
        self._clock = clock
        self.policy = policy or DeliveryPolicy()
        self._winding_down = False

    def wind_down(self) -> None:
        """Claim nothing more: the sends under way finish, and the process can stop."""
        self._winding_down = True

    async def run_once(self, now: datetime) -> Report:
        """Deliver everything due at `now`; returns what happened.

        A pipeline, not batch after batch: waiting for a whole batch before claiming the next
        let one slow send (a 429 asks for a second) stall the rest of the batch, and a fan-out
        ran far below the rate cap.
        """
        report = Report()
        policy = self.policy
        report.skipped = self._ledger.skip_missed(now, policy.grace)
        for missed in report.skipped:
            log.warning("digest %s was missed by more than %s: skipped", missed, policy.grace)
        places = asyncio.Semaphore(policy.concurrency)
        writer = _OutcomeWriter(self._ledger)
        # A digest reads the same for every subscriber of one language: built once per run.
        replies: dict[tuple[str, str, frozenset[str]], Reply] = {}
        running: set[asyncio.Task[None]] = set()
        try:
            while not self._winding_down and (claimed := self._ledger.claim(now, policy.batch)):
                running.update(
                    asyncio.create_task(self._deliver(c, report, places, writer, replies))
                    for c in claimed
                )
                # Rows claimed far ahead would sit here, owned, while another process could
                # send them: claim again once those waiting for a place are about to run out.
                while len(running) > policy.concurrency:
                    done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        task.result()
            await asyncio.gather(*running)
        except BaseException:
            # Stopping (the scheduler cancels a run in progress) or a failure: sends under way
            # are abandoned and their rows recovered at the next start, but the outcomes of
            # those that went out are written, or they would go out twice.
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            writer.flush()
            raise
        return report

    async def _deliver(
        self,
        claimed: Claimed,
        report: Report,
        places: asyncio.Semaphore,
        writer: "_OutcomeWriter",
        replies: dict[tuple[str, str, frozenset[str]], Reply],
    ) -> None:
        recipient = claimed.recipient
        sender = self._senders.get(recipient.chat.platform)
        digest = _parse(claimed.digest_key)
        visit = self._library.visit(digest.visit_id) if digest is not None else None
        if sender is None or visit is None or digest is None:
            # Another process may serve this platform or know this visit; leave the row for it.
            why = "no sender for this platform" if sender is None else "unknown visit"
            retry_at = self._clock() + timedelta(minutes=1)
            await writer.write(Settled(claimed.delivery_id, "pending", retry_at, why))
            return

        async def record(part: int, total: int) -> None:
            # The last part needs no row of its own: the delivery's own outcome records it,
            # and a one-message digest (the usual case) costs no extra write.
            if part + 1 < total:
                await writer.write(PartSent(claimed.delivery_id, part, self._clock()))

        parts = Parts(claimed.parts_sent, record)
        async with places:
            try:
                lang = recipient.lang
                articles = self._library.articles
                # True to its hour: what the digest may tell depends on what was out when due.
                key = (claimed.digest_key, lang, known_articles(articles, claimed.due_at))
                reply = replies.get(key)
                if reply is None:
                    partnership = self._library.partnership_of(visit)
                    reply = digest_reply(
                        digest, visit, partnership, articles, lang, at=claimed.due_at
                    )
                    replies[key] = reply
                outcome = await sender.deliver(recipient.chat.key, reply, parts)
            except Exception:  # a bug with one digest or sender must not stop the others
                log.exception("sending %s to %s failed", claimed.digest_key, recipient.chat.key)
                outcome = Outcome.FAILED
            # Still holding the place: until the outcome is written, a crash repeats this send.
            await writer.write(self._settled(claimed, outcome, report, parts.detail))

    def _settled(
        self, claimed: Claimed, outcome: Outcome, report: Report, detail: str | None
    ) -> Settled:
        now = self._clock()
        if outcome is Outcome.SENT:
            report.sent += 1
            return Settled(claimed.delivery_id, "sent", now)
        if outcome is Outcome.BLOCKED:
            report.blocked += 1
            return Settled(claimed.delivery_id, "blocked", now, "the chat blocked the bot")
        if outcome is Outcome.REJECTED:
            log.error(
                "digest %s to %s refused for good: %s",
                claimed.digest_key,
                claimed.recipient.chat.key,
                detail,
            )
            report.rejected += 1
            return Settled(claimed.delivery_id, "rejected", now, detail or "refused")
        why = f" ({detail})" if detail else ""
        if claimed.attempts < self.policy.max_attempts:
            report.retried += 1
            wait = self.policy.first_retry * 2 ** (claimed.attempts - 1)
            return Settled(
                claimed.delivery_id, "pending", now + wait, f"send failed; will retry{why}"
            )
        log.error(
            "digest %s to %s failed %d times",
            claimed.digest_key,
            claimed.recipient.chat.key,
            claimed.attempts,
        )
        report.failed += 1
        return Settled(claimed.delivery_id, "failed", now, f"send failed; gave up{why}")


def _parse(key: str) -> Digest | None:
    try:
        return Digest.parse(key)
    except ValueError:
        return None


class _OutcomeWriter:
    """Writes outcomes in groups, on the loop, one transaction at most every `every` seconds.

    A commit per delivery cost a disk flush each on SQLite; in a thread, SQLAlchemy's Python
    work fought the loop for the GIL, and each send waited for it after every socket call: the
    fan-out ran slower than with no thread at all. After a quiet spell the
    first outcome is written at once: a lone digest is on record as soon as it is sent.
    """

    def __init__(self, ledger: DeliveryLedger, every: float = 0.025, most: int = 100) -> None:
        self._ledger = ledger
        self._every = every
        self._most = most
        self._waiting: list[tuple[Settled | PartSent, asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._written_at = -every

    async def write(self, outcome: Settled | PartSent) -> None:
        """Returns once the outcome is committed; raises if the commit failed."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiting.append((outcome, future))
        if len(self._waiting) >= self._most:
            self.flush()
        elif self._timer is None:
            wait = max(0.0, self._written_at + self._every - loop.time())
            self._timer = loop.call_later(wait, self.flush)
        await future

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        group, self._waiting = self._waiting, []
        self._written_at = asyncio.get_running_loop().time()
        try:
            self._ledger.settle([outcome for outcome, _ in group])
        except Exception as exc:
            for _, future in group:
                if not future.done():
                    future.set_exception(exc)
        else:
            for _, future in group:
                if not future.done():
                    future.set_result(None)
