"""Send the digests that are due: claim rows in the ledger, render each in its reader's
language at send time, hand it to the platform's sender, record the outcome.

No scheduler and no platform here: the clock calls `run_once(now)`, the adapters provide
`DigestSender`s. A missed digest is sent late within the grace period, otherwise skipped and
logged; a failed send is retried later with back-off; a blocked chat pauses its subscription.
"""

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Protocol

from briefings.articles import Article
from briefings.digests import Digest, digest_reply
from briefings.dossier import Visit
from briefings.languages import lang_or_default
from briefings.replies import Reply
from briefings.storage.ledger import Claimed, Ledger

log = logging.getLogger(__name__)


class Outcome(Enum):
    SENT = "sent"
    BLOCKED = "blocked"  # the chat blocked or removed the bot
    FAILED = "failed"  # worth trying again later


class DigestSender(Protocol):
    async def deliver(self, chat_key: str, reply: Reply) -> Outcome: ...


@dataclass
class Report:
    sent: int = 0
    blocked: int = 0
    retried: int = 0
    failed: int = 0
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    grace: timedelta = timedelta(hours=2)
    batch: int = 100
    concurrency: int = 16
    max_attempts: int = 5
    first_retry: timedelta = timedelta(seconds=30)


class Dispatcher:
    def __init__(
        self,
        ledger: Ledger,
        visits: Mapping[str, tuple[Visit, dict[str, Article]]],
        senders: Mapping[str, DigestSender],
        clock: Callable[[], datetime],
        policy: DeliveryPolicy | None = None,
    ) -> None:
        self._ledger = ledger
        self._visits = visits
        self._senders = senders
        self._clock = clock
        self.policy = policy or DeliveryPolicy()

    async def run_once(self, now: datetime) -> Report:
        """Deliver everything due at `now`; returns what happened."""
        report = Report()
        report.skipped = self._ledger.skip_missed(now, self.policy.grace)
        for missed in report.skipped:
            log.warning("digest %s was missed by more than %s: skipped", missed, self.policy.grace)
        gate = asyncio.Semaphore(self.policy.concurrency)
        while claimed := self._ledger.claim(now, self.policy.batch):
            await asyncio.gather(*(self._deliver(c, report, gate) for c in claimed))
        return report

    async def _deliver(self, claimed: Claimed, report: Report, gate: asyncio.Semaphore) -> None:
        sub = claimed.subscription
        sender = self._senders.get(sub.platform)
        found = self._visits.get(sub.visit_id)
        if sender is None or found is None:
            # Another process may serve this platform; leave the row for it.
            why = "no sender for this platform" if sender is None else "unknown visit"
            self._ledger.retry_later(claimed.delivery_id, self._clock() + timedelta(minutes=1), why)
            return
        visit, articles = found
        digest = parse_key(claimed.digest_key)
        reply = digest_reply(digest, visit, articles, lang_or_default(sub.lang))
        async with gate:
            try:
                outcome = await sender.deliver(sub.chat_key, reply)
            except Exception:  # a sender bug must not stop the other deliveries
                log.exception("sending %s to %s failed", claimed.digest_key, sub.chat_key)
                outcome = Outcome.FAILED
        now = self._clock()
        if outcome is Outcome.SENT:
            self._ledger.finish(claimed.delivery_id, "sent", now)
            report.sent += 1
        elif outcome is Outcome.BLOCKED:
            self._ledger.finish(claimed.delivery_id, "blocked", now, "the chat blocked the bot")
            self._ledger.pause(sub.id)
            report.blocked += 1
        elif claimed.attempts < self.policy.max_attempts:
            wait = self.policy.first_retry * 2 ** (claimed.attempts - 1)
            self._ledger.retry_later(claimed.delivery_id, now + wait, "send failed; will retry")
            report.retried += 1
        else:
            self._ledger.finish(claimed.delivery_id, "failed", now, "send failed; gave up")
            log.error(
                "digest %s to %s failed %d times",
                claimed.digest_key,
                sub.chat_key,
                claimed.attempts,
            )
            report.failed += 1


def parse_key(key: str) -> Digest:
    visit_id, kind, day = key.rsplit(":", 2)
    if kind not in ("eve", "morning", "recap"):
        raise ValueError(f"unknown digest kind in {key!r}")
    return Digest(visit_id, kind, date.fromisoformat(day))  # type: ignore[arg-type]
