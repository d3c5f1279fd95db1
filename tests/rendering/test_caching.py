"""Fixed replies are built and rendered once; nothing cached leaks between languages, dialects,
clocks or visits, and the cache stays bounded however many visits there are."""

from datetime import timedelta

from briefings.commands import FIXED_REPLIES, fixed
from briefings.library import Library
from briefings.rendering.renderer import Renderer
from tests.core.talk import APRIL, outcome

from ..conftest import DURING


def test_fixed_replies_are_built_once_per_language_and_visit(library: Library) -> None:
    first = outcome(library, "/briefing", "en", DURING).reply
    assert outcome(library, "/briefing", "en", DURING).reply is first
    assert outcome(library, "/briefing", "it", DURING).reply is not first
    assert outcome(library, "/briefing", "it", DURING).reply.lang == "it"
    april = outcome(library, "/briefing", "en", DURING, visit=APRIL).reply
    assert april is not first
    assert fixed.cache_info().maxsize == FIXED_REPLIES


def test_the_clock_still_decides_which_day_today_is(library: Library, renderer: Renderer) -> None:
    today = outcome(library, "/today", "en", DURING).reply
    tomorrow = outcome(library, "/today", "en", DURING + timedelta(days=1)).reply
    assert today is not tomorrow
    assert "Tuesday" in renderer.render(today, "plain")[0].text
    assert "Wednesday" in renderer.render(tomorrow, "plain")[0].text


def test_one_reply_spells_commands_as_each_platform_does(
    library: Library, renderer: Renderer
) -> None:
    reply = outcome(library, "/itinerary day 1", "en", DURING).reply
    assert "/briefing sources" in renderer.render(reply, "slack")[-1].text
    telegram = renderer.render(reply, "telegram")[-1].text
    assert "/sources" in telegram
    assert "/briefing sources" not in telegram


def test_rendering_again_gives_the_same_messages_per_dialect(
    library: Library, renderer: Renderer
) -> None:
    reply = outcome(library, "/briefing", "ko", DURING).reply
    fresh = Renderer()
    for dialect in ("plain", "telegram", "slack"):
        once = renderer.render(reply, dialect)
        assert renderer.render(reply, dialect) == once
        assert fresh.render(reply, dialect) == once
    assert renderer.render(reply, "plain") != renderer.render(reply, "telegram")
