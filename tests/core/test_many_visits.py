"""A partnership with 50 visits: each chat its own visit, digests for every dated visit, and
caches that stay within their bounds however many visits there are."""

import gc
import tracemalloc
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from briefings.commands import FIXED_REPLIES, fixed
from briefings.conversation import Conversation, Incoming
from briefings.languages import LANGS
from briefings.library import Library
from briefings.loader import load_seeds
from briefings.ports import ChatRef
from briefings.rendering.renderer import RECENT_RENDERS, Renderer
from briefings.schedule import Digest
from fakes.memory import MemoryChatStates
from fakes.seeds import generate_seeds

VISITS = 50
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Library:
    seeds = load_seeds(generate_seeds(tmp_path_factory.mktemp("many") / "seeds", VISITS))
    return Library(seeds)


async def test_fifty_visits_load_and_are_listed(library: Library) -> None:
    assert len(library.visits) == VISITS
    listed = library.listed("turin-gwangju")
    assert len(listed) == VISITS
    assert [v.first_day for v in listed] == sorted((v.first_day for v in listed), reverse=True)


async def test_each_chat_keeps_its_own_visit(library: Library) -> None:
    states = MemoryChatStates()
    conversation = Conversation(library, states, lambda: NOW)
    renderer = Renderer()
    listed = library.listed("turin-gwangju")

    async def say(chat: str, text: str) -> str:
        answer = await conversation.handle(Incoming(ChatRef("t", chat), text=text))
        return "\n".join(m.text for m in renderer.render(answer.reply, "plain"))

    await say("a", "/visit 7")
    await say("b", "/visit 30")
    assert states.state(ChatRef("t", "a")).visit == listed[6].id
    assert states.state(ChatRef("t", "b")).visit == listed[29].id
    assert (await say("a", "/briefing")).startswith(listed[6].title("en"))
    # A chat that chose nothing follows the clock: all are past, so the most recent.
    assert all(v.last_day < NOW.date() for v in listed)
    assert (await say("c", "/briefing")).startswith(listed[0].title("en"))
    assert states.state(ChatRef("t", "c")).visit is None


async def test_a_subscription_plans_the_digests_of_every_dated_visit(library: Library) -> None:
    states = MemoryChatStates()
    # Before the first visit, so that every digest is still to come.
    conversation = Conversation(library, states, lambda: datetime(2024, 1, 1, tzinfo=UTC))
    await conversation.handle(Incoming(ChatRef("t", "1"), text="/subscribe 07:30 Europe/Rome"))
    planned = [Digest.parse(row.digest_key) for row in states.deliveries.values()]
    dated = [v for v in library.visits if v.dated]
    assert 0 < len(dated) < VISITS
    assert {d.visit_id for d in planned} == {v.id for v in dated}
    assert len(planned) == sum(len(v.days) + 2 for v in dated)
    assert all(
        row.due_at.astimezone(UTC).time() in {time(5, 30), time(6, 30)}
        for row in states.deliveries.values()
    )


def test_cached_replies_stay_within_their_bounds(library: Library, tmp_path: Path) -> None:
    """Every fixed view of every visit in every language, twice over: the caches hold no more
    than their bound, and the second pass leaves memory where the first left it."""
    from briefings.actions import Action
    from briefings.commands import Scope, show
    from briefings.ports import ChatState

    renderer = Renderer()
    views = ("briefing", "people", "sources", "partnership")

    def one_pass() -> None:
        for visit in library.visits:
            for lang in LANGS:
                scope = Scope(library, visit, lang, NOW, ChatState())
                for view in views:
                    for dialect in ("plain", "telegram", "slack"):
                        renderer.render(show(scope, Action(view, visit.id)), dialect)  # type: ignore[arg-type]

    fixed.cache_clear()
    one_pass()
    gc.collect()
    tracemalloc.start()
    one_pass()
    gc.collect()
    after_first, _ = tracemalloc.get_traced_memory()
    one_pass()
    gc.collect()
    after_second, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert fixed.cache_info().currsize <= FIXED_REPLIES
    assert renderer.cached <= RECENT_RENDERS
    # More views than either cache holds: had they no bound, every pass would add as much again.
    assert VISITS * len(LANGS) * len(views) > FIXED_REPLIES
    assert after_second - after_first < 1_000_000
