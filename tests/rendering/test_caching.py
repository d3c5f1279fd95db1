"""Fixed replies are built and rendered once; nothing cached leaks between languages, dialects,
clocks or platforms."""

from datetime import timedelta

from briefings.commands import Briefing, Context, handle
from briefings.rendering import Renderer

from ..conftest import DURING


def test_fixed_replies_are_built_once_per_language(briefing: Briefing) -> None:
    first = handle(briefing, Context("en", DURING), "/briefing")
    assert handle(briefing, Context("en", DURING), "/briefing") is first
    assert handle(briefing, Context("it", DURING), "/briefing") is not first
    assert handle(briefing, Context("it", DURING), "/briefing").lang == "it"


def test_the_clock_still_decides_which_day_today_is(briefing: Briefing, renderer: Renderer) -> None:
    today = handle(briefing, Context("en", DURING), "/today")
    tomorrow = handle(briefing, Context("en", DURING + timedelta(days=1)), "/today")
    assert today is not tomorrow
    assert "Tuesday" in renderer.render(today, "plain")[0].text
    assert "Wednesday" in renderer.render(tomorrow, "plain")[0].text


def test_a_platform_prefix_gets_its_own_reply(briefing: Briefing, renderer: Renderer) -> None:
    plain = handle(briefing, Context("en", DURING), "/itinerary day 1")
    slack = handle(briefing, Context("en", DURING, command_prefix="/briefing "), "/itinerary day 1")
    assert slack is not plain
    assert "/briefing sources" in renderer.render(slack, "slack")[-1].text
    assert "/briefing sources" not in renderer.render(plain, "slack")[-1].text


def test_rendering_again_gives_the_same_messages_per_dialect(
    briefing: Briefing, renderer: Renderer
) -> None:
    reply = handle(briefing, Context("ko", DURING), "/briefing")
    fresh = Renderer()
    for dialect in ("plain", "telegram", "slack"):
        once = renderer.render(reply, dialect)
        assert renderer.render(reply, dialect) == once
        assert fresh.render(reply, dialect) == once
    assert renderer.render(reply, "plain") != renderer.render(reply, "telegram")
