"""The clock that drives digests: APScheduler ticks, the ledger decides, the dispatcher sends.

Each process has its own in-memory APScheduler job store (APScheduler 3 must never share a job
store between processes); what several processes share is the ledger in the database, and each
process's lease in it: renewed by a heartbeat here (and by every claim and settle), so that
another process takes back only the rows of one that stopped.
"""

import asyncio
import logging
import time as monotonic_time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from briefings.delivery import Dispatcher, Report
from briefings.schedule import Digest
from storage.ledger import Ledger

log = logging.getLogger(__name__)
JOB_ID = "deliver-due-digests"


@dataclass
class SimulatedClock:
    """Plays a past visit fast: `speed` simulated seconds pass per real second."""

    start: datetime
    speed: float = 1.0

    def __post_init__(self) -> None:
        self._origin = monotonic_time.monotonic()

    def __call__(self) -> datetime:
        elapsed = monotonic_time.monotonic() - self._origin
        return self.start.astimezone(UTC) + timedelta(seconds=elapsed * self.speed)


class DigestScheduler:
    def __init__(
        self,
        *,
        ledger: Ledger,
        dispatcher: Dispatcher,
        # Per partnership, the digests of all its dated visits.
        plans: Mapping[str, Sequence[Digest]],
        clock: Callable[[], datetime],
        tick_seconds: float = 10.0,
        drain_seconds: float = 10.0,
    ) -> None:
        self._ledger = ledger
        self._dispatcher = dispatcher
        self._plans = plans
        self._clock = clock
        self._tick = tick_seconds
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._drain_seconds = drain_seconds
        self._run: asyncio.Future[Report] | None = None
        self._heartbeat: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._ledger.hold_owner_lock()
        self._ledger.recover()
        self._heartbeat = asyncio.create_task(self._renew_lease())
        self._ledger.plan_all(self._plans, self._clock())
        self._scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self._tick, timezone=UTC),
            id=JOB_ID,
            replace_existing=True,
            # A tick that could not run on time (the loop was busy) still runs within this.
            misfire_grace_time=max(1, int(self._tick * 3)),
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC),
        )
        self._scheduler.start()

    async def _renew_lease(self) -> None:
        """Keep our lease while we run, whatever happens to one connection: a failed renewal
        (the database restarting, our session terminated) is tried again at the next beat, on
        a fresh connection, well before the lease runs out."""
        every = self._ledger.lease.total_seconds() / 4
        while True:
            await asyncio.sleep(every)
            try:
                self._ledger.hold_owner_lock()
            except Exception as exc:
                log.warning("renewing our delivery lease failed (%s); trying again", exc)

    async def tick(self) -> None:
        now = self._clock()
        try:
            # Rows of a process that died return to the queue once its lease ran out.
            self._ledger.recover()
        except Exception:
            log.exception("recovering deliveries of stopped processes failed")
        # Shielded: shutting the scheduler down cancels its job, but a run in progress is let
        # finish (see stop) so that sends under way are recorded rather than repeated later.
        self._run = asyncio.ensure_future(self._dispatcher.run_once(now))
        try:
            report = await asyncio.shield(self._run)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivering digests failed; will try again at the next tick")
            return
        if report.sent or report.blocked or report.failed or report.retried or report.rejected:
            log.info(
                "digests at %s: %d sent, %d blocked, %d to retry, %d failed, %d refused",
                now.isoformat(timespec="minutes"),
                report.sent,
                report.blocked,
                report.retried,
                report.failed,
                report.rejected,
            )

    async def stop(self) -> None:
        """Claim nothing more, let the sends under way be recorded (for a while), then stop.

        The lease goes last: while it is held, no other process takes our rows back.
        """
        self._dispatcher.wind_down()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        run = self._run
        if run is not None and not run.done():
            try:
                await asyncio.wait_for(asyncio.shield(run), self._drain_seconds)
            except TimeoutError:
                log.warning(
                    "digests still sending after %.0f s: stopping them", self._drain_seconds
                )
                run.cancel()
                await asyncio.gather(run, return_exceptions=True)
            except Exception:
                log.exception("the last digest run failed while stopping")
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
            self._heartbeat = None
        self._ledger.release_owner_lock()
