"""Per-chat lanes: chats are answered concurrently, each chat's updates one after another.

One chat's slow answer (a flood wait of 20 s, a slow database row) must not hold up any other
chat, yet two commands from one chat must be answered in the order they were sent. Each chat
with work has its own FIFO and one worker task that exists only while the FIFO has work, so the
number of tasks is bounded by the number of chats with work, never by the number of updates.

`limit` bounds the places taken, all chats together: updates accepted and not yet finished, and
places taken for an update still being read. Beyond it a caller waits for a place, first come
first served: a webhook for a while (`place`, then refused so that the platform resends later),
polling for as long as it takes (`put`), so a flood costs neither unbounded memory nor
ever-growing latency. A place freed goes to the first in the queue and to no one else: waking
every waiter for every finished update cost a flood more than the updates themselves.
"""

import asyncio
import contextlib
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

Job = Awaitable[object]


@dataclass(frozen=True, slots=True)
class _Waiter:
    # True: a place was handed over; False: refused (stopping).
    handed: "asyncio.Future[bool]"
    refusable: bool


class ChatLanes:
    def __init__(self, limit: int, *, name: str = "update") -> None:
        if limit < 1:
            raise ValueError("the limit must be at least 1")
        self._limit = limit
        self._name = name
        self._lanes: dict[str, deque[Job]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._taken = 0
        self._queue: deque[_Waiter] = deque()
        self._idle = asyncio.Event()
        self._idle.set()
        self._refusing = False

    @property
    def accepted(self) -> int:
        """Places taken: updates waiting in a lane or being handled, and places taken for an
        update not yet given (`fill`) or given back."""
        return self._taken

    @property
    def full(self) -> bool:
        return self._taken >= self._limit

    async def place(self, timeout: float | None = None, *, refusable: bool = True) -> bool:
        """Take a place, waiting behind those who came first for up to `timeout` seconds
        (None: however long): whether one was taken. Taken, it is the caller's to `fill` or to
        `give_back`. From `refuse_waiting` on, False at once for a `refusable` caller."""
        if refusable and self._refusing:
            return False
        if not self.full and not self._queue:
            self._take()
            return True
        waiter = _Waiter(asyncio.get_running_loop().create_future(), refusable)
        self._queue.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await waiter.handed
        except BaseException as exc:
            handed = waiter.handed
            if not handed.done() or handed.cancelled():
                with contextlib.suppress(ValueError):
                    self._queue.remove(waiter)
            elif handed.result():
                # A place came just as the time ran out or the caller was cancelled.
                if isinstance(exc, TimeoutError):
                    return True
                self.give_back()
            if isinstance(exc, TimeoutError):
                return False
            raise

    def fill(self, key: str, job: Job) -> None:
        """Put `job` in `key`'s lane, in the place taken for it (`place`)."""
        lane = self._lanes.get(key)
        if lane is not None:
            lane.append(job)  # its worker is running and will come to it
            return
        self._lanes[key] = deque([job])
        worker = asyncio.get_running_loop().create_task(self._work(key))
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)

    def give_back(self) -> None:
        """A place taken and not filled (the update was unreadable, or refused after all)."""
        self._free_one()

    async def put(self, key: str, job: Job) -> None:
        """Take `job` into `key`'s lane, waiting for a place however long it takes (polling:
        what was fetched is handled, stopping or not), unless the lanes close first."""
        if await self.place(None, refusable=False):
            self.fill(key, job)
        else:
            log.error("lanes closed: an %s fetched was not handled", self._name)
            _discard(job)

    def refuse_waiting(self) -> None:
        """No more waiting for a place (the process is stopping): every refusable caller that
        waits or comes to wait is answered False."""
        self._refusing = True
        self._refuse(lambda waiter: waiter.refusable)

    async def join(self) -> None:
        """Return once every place taken is free again."""
        await self._idle.wait()

    async def close(self, timeout: float) -> None:
        """Let the jobs accepted finish for up to `timeout` seconds, then cancel the rest."""
        try:
            await asyncio.wait_for(self.join(), timeout)
        except TimeoutError:
            left = self._taken
            log.error("%d %ss not finished in %.0f s; cancelled", left, self._name, timeout)
        self._refusing = True
        self._refuse(lambda waiter: True)
        workers = set(self._workers)
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for lane in self._lanes.values():
            for job in lane:
                _discard(job)
        self._lanes.clear()

    def _take(self) -> None:
        self._taken += 1
        self._idle.clear()

    def _free_one(self) -> None:
        """A place is free: it passes to the first waiter still waiting, else back to the pool
        (so the number taken does not change while anyone waits, and no newcomer overtakes)."""
        while self._queue:
            waiter = self._queue.popleft()
            if not waiter.handed.done():
                waiter.handed.set_result(True)
                return
        self._taken -= 1
        if self._taken == 0:
            self._idle.set()

    def _refuse(self, which: Callable[[_Waiter], bool]) -> None:
        kept: deque[_Waiter] = deque()
        for waiter in self._queue:
            if not which(waiter):
                kept.append(waiter)
            elif not waiter.handed.done():
                waiter.handed.set_result(False)
        self._queue = kept

    async def _work(self, key: str) -> None:
        lane = self._lanes[key]
        while lane:
            job = lane[0]
            try:
                await job
            except Exception:
                log.exception("%s for chat %s failed", self._name, key)
            finally:
                lane.popleft()
                self._free_one()  # a job ends here: nothing of it is waited for
        del self._lanes[key]


def _discard(job: Job) -> None:
    """A coroutine never to run is closed, or Python warns that it was never awaited."""
    if inspect.iscoroutine(job):
        job.close()
