"""Per-chat lanes: chats are answered concurrently, each chat's updates one after another.

One chat's slow answer (a flood wait of 20 s, a slow database row) must not hold up any other
chat, yet two commands from one chat must be answered in the order they were sent. Each chat
with work has its own FIFO and one worker task that exists only while the FIFO has work, so the
number of tasks is bounded by the number of chats with work, never by the number of updates.

`limit` bounds the updates accepted and not yet finished, all chats together: beyond it a
webhook waits a while for `room` and is then refused (`offer`, so that the platform resends
later), and polling waits (`put`), so a flood costs neither unbounded memory nor ever-growing
latency.
"""

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable

log = logging.getLogger(__name__)

Job = Awaitable[object]


class ChatLanes:
    def __init__(self, limit: int, *, name: str = "update") -> None:
        if limit < 1:
            raise ValueError("the limit must be at least 1")
        self._limit = limit
        self._name = name
        self._lanes: dict[str, deque[Job]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._accepted = 0
        # Set (and replaced) each time a job finishes: `put` waits on it for room.
        self._freed = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._refusing = False

    @property
    def accepted(self) -> int:
        """Updates accepted and not yet finished (waiting in a lane or being handled)."""
        return self._accepted

    @property
    def full(self) -> bool:
        return self._accepted >= self._limit

    def offer(self, key: str, job: Job) -> bool:
        """Take `job` into `key`'s lane unless the bound is reached (then `job` is closed and
        False returned: the caller refuses the update so that it is sent again)."""
        if self.full:
            _discard(job)
            return False
        self._enqueue(key, job)
        return True

    async def put(self, key: str, job: Job) -> None:
        """Take `job` into `key`'s lane, waiting for room first."""
        while self.full:
            await self._freed.wait()
        self._enqueue(key, job)

    async def room(self, timeout: float) -> bool:
        """Wait while the lanes are full, for up to `timeout` seconds: whether there is room.
        From `refuse_waiting` on, False at once for whoever waits or comes to wait."""
        if self._refusing:
            return False
        if not self.full:
            return True
        try:
            async with asyncio.timeout(timeout):
                while self.full and not self._refusing:
                    await self._freed.wait()
        except TimeoutError:
            return False
        return not self._refusing

    def refuse_waiting(self) -> None:
        """No more waiting for room (the process is stopping): every `room` answers False."""
        self._refusing = True
        self._wake()

    async def join(self) -> None:
        """Return once every accepted job has finished."""
        await self._idle.wait()

    async def close(self, timeout: float) -> None:
        """Let the jobs accepted finish for up to `timeout` seconds, then cancel the rest."""
        try:
            await asyncio.wait_for(self.join(), timeout)
        except TimeoutError:
            left = self._accepted
            log.error("%d %ss not finished in %.0f s; cancelled", left, self._name, timeout)
        workers = set(self._workers)
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for lane in self._lanes.values():
            for job in lane:
                _discard(job)
        self._lanes.clear()

    def _enqueue(self, key: str, job: Job) -> None:
        self._accepted += 1
        self._idle.clear()
        lane = self._lanes.get(key)
        if lane is not None:
            lane.append(job)  # its worker is running and will come to it
            return
        self._lanes[key] = deque([job])
        worker = asyncio.get_running_loop().create_task(self._work(key))
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)

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
                self._finished()  # a job ends here: nothing of it is waited for
        del self._lanes[key]

    def _finished(self) -> None:
        self._accepted -= 1
        if self._accepted == 0:
            self._idle.set()
        self._wake()

    def _wake(self) -> None:
        freed, self._freed = self._freed, asyncio.Event()
        freed.set()


def _discard(job: Job) -> None:
    """A coroutine never to run is closed, or Python warns that it was never awaited."""
    if inspect.iscoroutine(job):
        job.close()
