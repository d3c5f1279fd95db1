"""Deliveries recorded together: one transaction for all the updates whose turn comes at once.

Every update a webhook takes on is recorded as seen (`SeenRequests`) before it is handled, and
on SQLite each record was a commit of its own, made on the event loop: under a flood, most of
one process's time went into waiting for the disk. Here the updates that ask while a record is
being written wait for the next one, and each write takes everyone waiting (group commit): as
durable as before (nothing is handled before its record is committed), one commit for many.
The write runs in a worker thread, so the loop goes on with other chats' updates meanwhile.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from briefings.ports import SeenRequests

Run = Callable[[Callable[[Sequence[str]], list[bool]], Sequence[str]], Awaitable[list[bool]]]


async def _in_a_thread(
    write: Callable[[Sequence[str]], list[bool]], keys: Sequence[str]
) -> list[bool]:
    return await asyncio.to_thread(write, keys)


class GroupedSeen:
    def __init__(self, seen: SeenRequests, *, run: Run = _in_a_thread) -> None:
        """`run`: how a write is made (in a worker thread; tests may run it in place)."""
        self._seen = seen
        self._run = run
        self._waiting: list[tuple[str, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def first_time(self, key: str) -> bool:
        """Whether `key` is recorded for the first time (`SeenRequests.first_time`), in the
        next write; the store's error, if it fails, is every waiter's."""
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((key, answer))
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write())
        return await answer

    async def close(self) -> None:
        """Wait for the write under way, if any (at shutdown, after the lanes have closed)."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

    async def _write(self) -> None:
        group: list[tuple[str, asyncio.Future[bool]]] = []
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                try:
                    answers = await self._run(self._seen.first_times, [k for k, _ in group])
                except Exception as exc:
                    for _, answer in group:
                        if not answer.done():
                            answer.set_exception(exc)
                    continue
                # In the order they asked: a chat's updates go on in the order they came.
                for (_, answer), first in zip(group, answers, strict=True):
                    if not answer.done():
                        answer.set_result(first)
        finally:
            self._writer = None
            # Cancelled (the loop is closing): no one is left waiting for an answer.
            for _, answer in group + self._waiting:
                answer.cancel()
            self._waiting = []
