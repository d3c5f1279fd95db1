"""The one-screen /briefing: within a phone screen for every visit, language, dialect and phase of
the clock, and saying what each phase needs."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from briefings.bounds import DIALECTS, MAX_CHARACTERS, MAX_LINES, overflows, phases
from briefings.languages import LANGS
from briefings.library import Library
from briefings.rendering.renderer import Renderer
from tests.core.talk import APRIL, AUGUST, outcome, plain

SEOUL = ZoneInfo("Asia/Seoul")


def test_every_phase_language_and_dialect_fits_one_screen(library: Library) -> None:
    assert overflows(library, Renderer()) == []


def test_the_phases_cover_before_each_day_and_after(library: Library) -> None:
    august = library.visit(AUGUST)
    april = library.visit(APRIL)
    assert august is not None
    assert april is not None
    assert [name for name, _ in phases(august)] == ["before", "day 1", "day 2", "day 3", "after"]
    assert [name for name, _ in phases(april)] == ["before", "during", "after"]
    # Every language and dialect is rendered in each: 3 x 3 per phase and visit.
    assert len(LANGS) * len(DIALECTS) == 9


def test_the_bounds_are_the_issues() -> None:
    assert (MAX_LINES, MAX_CHARACTERS) == (14, 1000)


@pytest.mark.parametrize(
    ("now", "says", "never"),
    [
        (datetime(2024, 8, 20, 9, tzinfo=SEOUL), ["starts Mon 26 Aug", "FIRST DAY"], ["TODAY"]),
        (
            datetime(2024, 8, 27, 9, tzinfo=SEOUL),
            ["Day 2 of 3", "TODAY Tue 27 Aug", "1.", "Next: Wed 28 Aug"],
            ["WHAT CAME OF IT"],
        ),
        (datetime(2024, 9, 2, 9, tzinfo=SEOUL), ["concluded", "WHAT CAME OF IT"], ["TODAY"]),
    ],
)
def test_the_briefing_reads_the_clock(
    library: Library, renderer: Renderer, now: datetime, says: list[str], never: list[str]
) -> None:
    text = plain(renderer, outcome(library, "/briefing", "en", now))
    for fragment in says:
        assert fragment in text
    for fragment in never:
        assert fragment not in text
    # Always: the visit, its dates and the frame of the partnership.
    assert text.startswith("The Mayor of Turin in Gwangju · 26–28 August 2024")
    assert "Frame:" in text


def test_the_april_visit_says_its_days_are_not_stated(library: Library, renderer: Renderer) -> None:
    now = datetime(2026, 1, 1, tzinfo=SEOUL)
    text = plain(renderer, outcome(library, "/briefing", "en", now, visit=APRIL))
    assert "April 2024, days not stated" in text
    assert "TODAY" not in text


def test_the_briefing_buttons_open_every_part(library: Library) -> None:
    reply = outcome(library, "/briefing", "en", datetime(2024, 8, 27, 9, tzinfo=SEOUL)).reply
    views = [b.action.view for b in reply.buttons]
    assert views.count("day") == 3
    assert views[3:] == ["briefing", "people", "quotes", "background", "sources", "dossier"]
