"""`ChatLanes`' places: first come, first served; a place freed goes to one waiter only; a
place given back or timed out is never lost; stopping refuses webhooks, not polling."""

import asyncio

from bot.lanes import ChatLanes


async def _full(limit: int) -> tuple[ChatLanes, asyncio.Event]:
    """Lanes whose every place holds a job that runs until the event is set."""
    lanes, release = ChatLanes(limit), asyncio.Event()
    for n in range(limit):
        assert await lanes.place(0.0)
        lanes.fill(f"busy-{n}", release.wait())
    return lanes, release


async def _waiting(lanes: ChatLanes, count: int) -> list["asyncio.Task[bool]"]:
    tasks = []
    for _ in range(count):
        tasks.append(asyncio.create_task(lanes.place(5.0)))
        await asyncio.sleep(0)  # each in the queue before the next
    return tasks


async def test_a_freed_place_goes_to_the_first_waiter_and_no_other() -> None:
    lanes, release = await _full(1)
    first, second, third = await _waiting(lanes, 3)
    release.set()  # the one job finishes: one place
    assert await first
    await asyncio.sleep(0.05)
    assert not second.done()
    assert not third.done()
    assert lanes.accepted == 1
    lanes.give_back()  # the first did not use it: it passes to the second
    assert await second
    assert not third.done()
    lanes.fill("second", asyncio.sleep(0))
    assert await third
    lanes.give_back()
    await lanes.join()
    assert lanes.accepted == 0


async def test_a_newcomer_does_not_overtake_the_queue() -> None:
    lanes, release = await _full(1)
    (waiter,) = await _waiting(lanes, 1)
    release.set()
    # The place is the waiter's, though it has not run yet: a newcomer finds none.
    assert not await lanes.place(0.0)
    assert await waiter
    lanes.give_back()
    assert await lanes.place(0.0)
    lanes.give_back()


async def test_a_waiter_that_times_out_loses_its_turn_not_the_place() -> None:
    lanes, release = await _full(1)
    impatient = asyncio.create_task(lanes.place(0.05))
    await asyncio.sleep(0)
    (patient,) = await _waiting(lanes, 1)
    assert not await impatient
    release.set()
    assert await patient  # the place went past the one that left
    lanes.give_back()
    await asyncio.wait_for(lanes.join(), 1)


async def test_a_cancelled_waiter_loses_its_turn_not_the_place() -> None:
    lanes, release = await _full(1)
    gone, kept = await _waiting(lanes, 2)
    gone.cancel()
    release.set()
    assert await kept
    lanes.give_back()
    await asyncio.wait_for(lanes.join(), 1)


async def test_stopping_refuses_webhooks_waiting_and_still_takes_polling() -> None:
    lanes, release = await _full(1)
    (webhook,) = await _waiting(lanes, 1)
    polled: list[str] = []

    async def job() -> None:
        polled.append("handled")

    putting = asyncio.create_task(lanes.put("polled", job()))
    await asyncio.sleep(0)
    lanes.refuse_waiting()
    assert not await webhook
    assert not await lanes.place(5.0)  # at once, without waiting
    release.set()
    await asyncio.wait_for(putting, 1)
    await asyncio.wait_for(lanes.join(), 1)
    assert polled == ["handled"]
    await lanes.close(1.0)


async def test_one_chat_in_order_others_alongside() -> None:
    lanes = ChatLanes(10)
    done: list[str] = []
    gate = asyncio.Event()

    async def job(name: str, wait: bool = False) -> None:
        if wait:
            await gate.wait()
        done.append(name)

    for name, key, wait in (("a1", "a", True), ("a2", "a", False), ("b1", "b", False)):
        assert await lanes.place(0.0)
        lanes.fill(key, job(name, wait))
    await asyncio.sleep(0.05)
    assert done == ["b1"]  # chat a waits for its first; chat b does not
    gate.set()
    await asyncio.wait_for(lanes.join(), 1)
    assert done == ["b1", "a1", "a2"]
