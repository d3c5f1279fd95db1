"""No digest, and no briefing, tells an outcome or a remark before the article reporting it was
out: the Korean article was filed at 17:15 on 27 August, after the City Hall meeting."""

from datetime import UTC, datetime, time, timedelta

import pytest

from briefings.digests import digest_reply
from briefings.dossier import Visit
from briefings.languages import LANGS
from briefings.library import Library
from briefings.rendering.renderer import Renderer
from briefings.schedule import due_at
from tests.core.talk import AUGUST

# Subscribers' hours: every half hour of the day, on both sides of the date line.
ZONES = ("Asia/Seoul", "Europe/Rome", "America/New_York", "Pacific/Kiritimati")
TIMES = [time(h, m) for h in range(24) for m in (0, 30)]


def _reported(visit: Visit, library: Library) -> list[tuple[datetime, dict[str, str]]]:
    """Each outcome and remark with the moment it was first reported, in each language."""
    found = []
    for event in visit.programme:
        for outcome in event.reported:
            published = min(
                p for c in outcome.cite if (p := library.articles[c.article].published) is not None
            )
            found.append((published, {lang: outcome.text(lang) for lang in LANGS}))
    for quote in visit.quotes:
        dates = [library.articles[c.article].published for c in quote.cite]
        if all(d is not None for d in dates):
            found.append((min(d for d in dates if d), {lang: quote.text(lang) for lang in LANGS}))
    return found


@pytest.mark.parametrize("zone", ZONES)
def test_no_digest_tells_what_was_not_yet_reported(library: Library, zone: str) -> None:
    visit = library.visit(AUGUST)
    assert visit is not None
    reported = _reported(visit, library)
    assert reported, "the dossier must hold reported outcomes for this test to mean anything"
    renderer = Renderer()
    partnership = library.partnership_of(visit)
    checked = 0
    for digest in library.plan(visit.partnership):
        for at in TIMES:
            moment = due_at(digest, at, zone)
            for lang in LANGS:
                reply = digest_reply(digest, visit, partnership, library.articles, lang, at=moment)
                text = "\n".join(m.text for m in renderer.render(reply, "plain"))
                for published, texts in reported:
                    if published > moment:
                        assert texts[lang] not in text, (digest.key, at, zone, lang)
                        checked += 1
    assert checked > 0


def test_an_outcome_appears_once_it_is_reported(library: Library) -> None:
    visit = library.visit(AUGUST)
    assert visit is not None
    reported = [(p, t) for p, t in _reported(visit, library)]
    published = min(p for p, _ in reported)
    renderer = Renderer()
    partnership = library.partnership_of(visit)
    recap = next(d for d in library.plan(visit.partnership) if d.kind == "recap")
    at = max(due_at(recap, time(7, 30), "Asia/Seoul"), published + timedelta(minutes=1))
    reply = digest_reply(recap, visit, partnership, library.articles, "en", at=at)
    text = "\n".join(m.text for m in renderer.render(reply, "plain"))
    assert any(t["en"] in text for _, t in reported)
    assert published.astimezone(UTC) < at.astimezone(UTC)


def test_the_briefing_before_the_report_keeps_outcomes_out(library: Library) -> None:
    from tests.core.talk import outcome, plain

    visit = library.visit(AUGUST)
    assert visit is not None
    renderer = Renderer()
    reported = _reported(visit, library)
    published = min(p for p, _ in reported)
    for command in ("/briefing", "/dossier", "/quotes", "/itinerary 27 August"):
        before = plain(renderer, outcome(library, command, "en", published - timedelta(hours=1)))
        for when, texts in reported:
            if when > published - timedelta(hours=1):
                assert texts["en"] not in before, command
