"""`GroupedSeen`: the updates whose turn comes while a record is being written are recorded in
the next write, all in one transaction, each told whether it is new, in the order asked."""

import asyncio
import threading
from collections.abc import Callable, Sequence

import pytest
from sqlalchemy import Engine

from bot.seen_groups import GroupedSeen
from storage.seen import SqlSeenRequests

Write = Callable[[Sequence[str]], list[bool]]


async def test_keys_asked_at_once_are_one_write(engine: Engine) -> None:
    store = SqlSeenRequests(engine)
    assert store.first_time("old")
    writes: list[list[str]] = []

    async def in_a_thread(write: Write, keys: Sequence[str]) -> list[bool]:
        writes.append(list(keys))
        return await asyncio.to_thread(write, keys)

    grouped = GroupedSeen(store, run=in_a_thread)
    keys = ["a", "old", "b", "a", "c"]
    answers = await asyncio.gather(*(grouped.first_time(k) for k in keys))
    assert answers == [True, False, True, False, True]
    assert writes == [keys]  # one write: one transaction (SqlSeenRequests.first_times)
    await grouped.close()


async def test_keys_asked_during_a_write_go_in_the_next(engine: Engine) -> None:
    store = SqlSeenRequests(engine)
    writing, go_on = threading.Event(), threading.Event()
    groups: list[list[str]] = []

    def held(keys: Sequence[str]) -> list[bool]:
        groups.append(list(keys))
        if len(groups) == 1:
            writing.set()
            go_on.wait(5)
        return store.first_times(keys)

    async def in_a_thread(write: Write, keys: Sequence[str]) -> list[bool]:
        return await asyncio.to_thread(held, keys)  # the store's write, held on the first

    grouped = GroupedSeen(store, run=in_a_thread)
    first = asyncio.create_task(grouped.first_time("1"))
    await asyncio.to_thread(writing.wait, 5)
    later = [asyncio.create_task(grouped.first_time(k)) for k in ("2", "3", "1")]
    await asyncio.sleep(0.05)
    assert not any(task.done() for task in later)  # waiting for the write under way
    go_on.set()
    assert await first
    assert [await task for task in later] == [True, True, False]
    assert groups == [["1"], ["2", "3", "1"]]
    await grouped.close()


async def test_a_failed_write_is_every_waiters_error_and_the_next_write_goes_on(
    engine: Engine,
) -> None:
    store = SqlSeenRequests(engine)
    failing = [True]

    async def run(write: Write, keys: Sequence[str]) -> list[bool]:
        if failing.pop():
            raise ConnectionError("the database went away")
        return store.first_times(keys)

    grouped = GroupedSeen(store, run=run)
    results = await asyncio.gather(
        grouped.first_time("x"), grouped.first_time("y"), return_exceptions=True
    )
    assert all(isinstance(r, ConnectionError) for r in results)
    failing.append(False)
    assert await grouped.first_time("x")  # nothing was recorded by the failed write
    await grouped.close()


async def test_a_waiter_cancelled_leaves_the_others_answered(engine: Engine) -> None:
    grouped = GroupedSeen(SqlSeenRequests(engine))
    gone = asyncio.create_task(grouped.first_time("gone"))
    kept = asyncio.create_task(grouped.first_time("kept"))
    await asyncio.sleep(0)
    gone.cancel()
    assert await kept
    with pytest.raises(asyncio.CancelledError):
        await gone
    await grouped.close()
