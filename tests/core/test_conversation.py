"""The conversation service: language, visit choice, permissions and effects, decided once."""

from collections.abc import Awaitable, Callable
from datetime import time

import pytest

from briefings.actions import Action, encode
from briefings.conversation import Conversation, Incoming
from briefings.library import Library
from briefings.ports import ChatRef, Subscription
from briefings.rendering.renderer import Renderer
from briefings.schedule import Digest
from fakes.memory import MemoryChatStates
from tests.dialogue import APRIL, AUGUST, DIALOGUE, NOW, Step

CHAT = ChatRef("test", "1")
GROUP = ChatRef("test", "-100")


@pytest.fixture
def states() -> MemoryChatStates:
    return MemoryChatStates()


@pytest.fixture
def conversation(library: Library, states: MemoryChatStates) -> Conversation:
    return Conversation(library, states, lambda: NOW)


async def ask(
    conversation: Conversation,
    renderer: Renderer,
    text: str | None = None,
    *,
    press: str | None = None,
    chat: ChatRef = CHAT,
    locale: str | None = None,
    user: str = "u1",
    is_admin: Callable[[], Awaitable[bool]] | None = None,
) -> str:
    kind = "private" if chat == CHAT else "group"
    incoming = Incoming(chat, kind, user, locale, text, action=press, is_admin=is_admin)
    answer = await conversation.handle(incoming)
    return "\n".join(m.text for m in renderer.render(answer.reply, "plain"))


async def test_the_dialogue(conversation: Conversation, renderer: Renderer):
    for step in DIALOGUE:
        said = await ask(conversation, renderer, step.text, press=step.press)
        for fragment in step.says:
            assert fragment in said, f"{step}: {fragment!r} not in {said!r}"
        for fragment in step.never:
            assert fragment not in said, f"{step}: {fragment!r} in {said!r}"


async def test_language_is_the_chats_choice_else_the_platforms_else_the_default(
    conversation: Conversation, renderer: Renderer
):
    assert "Comandi" in await ask(conversation, renderer, "/help", locale="it-IT")
    assert "Commands" in await ask(conversation, renderer, "/help", locale="fr")
    await ask(conversation, renderer, "/lang ko", locale="it")
    assert "명령어" in await ask(conversation, renderer, "/help", locale="it")


async def test_with_no_visit_chosen_the_chat_follows_the_clock(
    library: Library, states: MemoryChatStates, renderer: Renderer
):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    rome = ZoneInfo("Europe/Rome")
    moments = {
        datetime(2024, 4, 15, 12, tzinfo=rome): "The Mayor of Gwangju in Turin",  # under way
        datetime(2024, 6, 1, 12, tzinfo=rome): "The Mayor of Turin in Gwangju",  # next
        datetime(2026, 12, 1, 12, tzinfo=rome): "The Mayor of Turin in Gwangju",  # most recent
        datetime(2023, 1, 1, 12, tzinfo=rome): "The Mayor of Gwangju in Turin",  # next
    }
    for now, title in moments.items():
        conversation = Conversation(library, states, lambda now=now: now)
        assert (await ask(conversation, renderer, "/briefing")).startswith(title)


async def test_a_chosen_visit_that_left_the_seeds_falls_back_to_the_clock(
    conversation: Conversation, states: MemoryChatStates, renderer: Renderer
):
    states.set_visit(CHAT, "a-visit-since-removed")
    assert (await ask(conversation, renderer, "/briefing")).startswith(
        "The Mayor of Turin in Gwangju"
    )


async def test_every_reply_about_a_visit_names_it(conversation: Conversation, renderer: Renderer):
    for text in ("/today", "/itinerary 27 agosto", "/people", "/who kang", "/sources"):
        said = await ask(conversation, renderer, text)
        assert "The Mayor of Turin in Gwangju" in said, text


async def test_month_precision_visit_has_no_day_and_says_so_once(
    conversation: Conversation, renderer: Renderer
):
    await ask(conversation, renderer, f"/visit {APRIL}")
    for text in ("/itinerary tuesday", "/today", "/tomorrow", "/next", "/itinerary day 2"):
        said = await ask(conversation, renderer, text)
        assert said.count("do not state its days") == 1, text
        assert "2024-04-" not in said
        assert " April 2024 –" not in said
    briefing = await ask(conversation, renderer, "/briefing")
    assert "April 2024, days not stated" in briefing


async def test_shared_settings_in_a_group_are_for_its_admins(
    conversation: Conversation, states: MemoryChatStates, renderer: Renderer
):
    async def no() -> bool:
        return False

    async def yes() -> bool:
        return True

    for text in ("/lang it", "/visit 2", "/subscribe 08:00"):
        said = await ask(conversation, renderer, text, chat=GROUP, is_admin=no)
        assert "Only the chat's administrators" in said, text
    assert states.state(GROUP).lang is None
    assert states.state(GROUP).visit is None
    await ask(conversation, renderer, "/subscribe 08:00", chat=GROUP, is_admin=yes, user="boss")
    assert states.state(GROUP).subscription is not None
    said = await ask(conversation, renderer, "/unsubscribe", chat=GROUP, is_admin=no, user="u2")
    assert "Only the chat's administrators" in said
    assert states.state(GROUP).subscription is not None
    # The subscriber may change what they set up even without being an admin.
    said = await ask(conversation, renderer, "/unsubscribe", chat=GROUP, is_admin=no, user="boss")
    assert "Unsubscribed" in said
    # Reading never needs permission.
    assert "The Mayor" in await ask(conversation, renderer, "/briefing", chat=GROUP, is_admin=no)


async def test_subscribing_covers_every_dated_visit_and_fixes_the_language(
    conversation: Conversation, states: MemoryChatStates, renderer: Renderer
):
    said = await ask(conversation, renderer, "/subscribe 07:00 Europe/Rome", locale="it")
    assert "Iscrizione" in said
    state = states.state(CHAT)
    assert state.subscription == Subscription("turin-gwangju", time(7), "Europe/Rome", "u1")
    assert state.lang == "it"
    planned = {Digest.parse(row.digest_key).visit_id for row in states.deliveries.values()}
    assert planned == {AUGUST}  # the April visit has no days, hence no digests
    await ask(conversation, renderer, "/lang ko")
    assert "한국어" in await ask(conversation, renderer, "/subscriptions")


async def test_a_chat_that_writes_again_is_reachable_again(
    conversation: Conversation, states: MemoryChatStates, renderer: Renderer
):
    conversation.chat_gone(CHAT)
    assert not states.state(CHAT).reachable
    await ask(conversation, renderer, "/help")
    assert states.state(CHAT).reachable


async def test_buttons_never_change_settings(
    conversation: Conversation, states: MemoryChatStates, renderer: Renderer
):
    await ask(conversation, renderer, press=encode(Action("briefing", APRIL)))
    assert states.state(CHAT).visit is None


def test_the_dialogue_covers_what_the_issue_asks():
    texts = " ".join(s.text or "" for s in DIALOGUE)
    for command in ("/visits", "/visit", "/partnership", "/lang"):
        assert command in texts
    assert any(s.press for s in DIALOGUE if isinstance(s, Step))


@pytest.mark.parametrize(
    ("words", "title"),
    [
        ("2", "The Mayor of Gwangju in Turin"),
        ("aprile", "The Mayor of Gwangju in Turin"),
        ("torino", "The Mayor of Gwangju in Turin"),
        ("토리노", "The Mayor of Gwangju in Turin"),
        ("april 2024", "The Mayor of Gwangju in Turin"),
        ("1", "The Mayor of Turin in Gwangju"),
        ("gwangju", "The Mayor of Turin in Gwangju"),
        ("광주", "The Mayor of Turin in Gwangju"),
        ("8월", "The Mayor of Turin in Gwangju"),
        (AUGUST, "The Mayor of Turin in Gwangju"),
    ],
)
async def test_visit_is_chosen_by_number_id_or_words(
    conversation: Conversation, states: MemoryChatStates, renderer: Renderer, words: str, title: str
):
    said = await ask(conversation, renderer, f"/visit {words}")
    assert said.startswith(title)
    assert states.state(CHAT).visit is not None


@pytest.mark.parametrize("words", ["2024", "99", "nothing of the sort"])
async def test_a_visit_not_found_or_ambiguous_lists_them_and_changes_nothing(
    conversation: Conversation, states: MemoryChatStates, renderer: Renderer, words: str
):
    said = await ask(conversation, renderer, f"/visit {words}")
    assert "Visits of the partnership" in said
    assert states.state(CHAT).visit is None
