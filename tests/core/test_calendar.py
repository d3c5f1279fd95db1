"""The calendar export, read back with `icalendar` as a calendar app would read it."""

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from briefings.calendar import UID_DOMAIN, calendar_attachment, visit_calendar
from briefings.knowledge import known_articles
from briefings.languages import LANGS, Lang
from briefings.library import Library
from tests.cli import run_cli

from ..conftest import APRIL, AUGUST, DURING


def _events(content: bytes) -> list[dict[str, object]]:
    parsed = Calendar.from_ical(content)
    return [
        {
            "uid": str(e["UID"]),
            "day": e.decoded("DTSTART"),
            "end": e.decoded("DTEND"),
            "summary": str(e["SUMMARY"]),
            "description": str(e["DESCRIPTION"]),
            "location": str(e["LOCATION"]) if "LOCATION" in e else None,
            "dtstamp": e.decoded("DTSTAMP"),
            "sequence": int(e["SEQUENCE"]),
        }
        for e in parsed.walk("VEVENT")
    ]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("visit_id", [AUGUST, APRIL])
def test_every_dated_event_on_its_day_all_day_and_no_undated_one(
    library: Library, visit_id: str, lang: Lang
) -> None:
    visit = library.visit(visit_id)
    assert visit is not None
    known = known_articles(library.articles, DURING + timedelta(days=365))
    content = visit_calendar(
        visit, library.partnership_of(visit), library.articles, lang, known=known
    )
    parsed = Calendar.from_ical(content)
    assert str(parsed["X-WR-CALNAME"]).startswith(visit.title(lang))
    events = _events(content)
    dated = [e for e in visit.programme if e.date is not None]
    assert [(e["day"], e["summary"]) for e in events] == [(e.date, e.title(lang)) for e in dated]
    for event, source in zip(events, dated, strict=True):
        # All day: a DATE, never a date-time; the next day as the exclusive end.
        assert type(event["day"]) is date
        assert event["end"] == source.date + timedelta(days=1)  # type: ignore[operator]
        assert event["uid"] == f"{source.id}.{visit.id}@{UID_DOMAIN}"
        place = visit.place(source.place).name(lang) if source.place else None
        assert event["location"] == place
        # The sources are quoted in the description, passage by passage.
        for cite in source.cite:
            assert cite.quote in str(event["description"])
    undated_titles = {e.title(lang) for e in visit.undated_events}
    assert not undated_titles & {str(e["summary"]) for e in events}
    if visit_id == APRIL:
        assert events == []
        # Still a valid calendar: the visit's time zone is its one component.
        assert [c.name for c in parsed.subcomponents] == ["VTIMEZONE"]


def test_the_caption_says_what_is_in_and_names_what_is_left_out(library: Library) -> None:
    for visit in library.visits:
        known = known_articles(library.articles, DURING)
        attachment = calendar_attachment(
            visit, library.partnership_of(visit), library.articles, "en", known=known
        )
        assert attachment.filename == f"{visit.id}.en.ics"
        assert attachment.mime_type == "text/calendar"
        dated = sum(1 for e in visit.programme if e.date)
        assert f"{dated} programme item(s)" in attachment.caption
        for event in visit.undated_events:
            assert event.title("en") in attachment.caption
        assert len(attachment.caption) <= 1024  # Telegram's caption limit


def test_stamps_come_from_the_sources_not_the_clock(library: Library) -> None:
    """DTSTAMP, SEQUENCE and UIDs depend on the dossier alone: the latest publication among an
    entry's articles, and how many articles it draws on."""
    visit = library.visit(AUGUST)
    assert visit is not None
    partnership = library.partnership_of(visit)
    known = known_articles(library.articles, DURING + timedelta(days=365))
    content = visit_calendar(visit, partnership, library.articles, "en", known=known)
    assert content == visit_calendar(visit, partnership, library.articles, "en", known=known)
    events = {e["uid"]: e for e in _events(content)}
    for source in (e for e in visit.programme if e.date is not None):
        entry = events[f"{source.id}.{visit.id}@{UID_DOMAIN}"]
        # The plan's sources and, once out, the reports of what came of it.
        cites = [*source.cite, *(c for r in source.reported for c in r.cite)]
        articles = {c.article for c in cites if c.article in known}
        assert entry["sequence"] == len(articles) - 1
        published = [
            library.articles[a].published for a in articles if library.articles[a].published
        ]
        stamp = entry["dtstamp"]
        assert isinstance(stamp, datetime)
        if published:
            assert stamp == max(published)
        else:
            # No article of this entry gives its date: the latest it can date from, else the
            # visit's first day; never the clock.
            assert stamp.date() <= visit.first_day


def test_uids_and_bytes_are_the_same_in_two_processes(tmp_path: Path) -> None:
    """Two `briefing-bot export ics` runs, separate processes and working directories (as after
    a restart on another clone): the same UIDs, indeed the same bytes."""
    files = []
    for n in (1, 2):
        out = tmp_path / f"run{n}" / "visit.ics"
        out.parent.mkdir()
        result = run_cli(
            "export",
            "ics",
            "--visit",
            AUGUST,
            "--lang",
            "it",
            "-o",
            str(out),
            "--now",
            f"2024-09-0{n}T12:00+09:00",
            cwd=out.parent,
        )
        assert result.returncode == 0, result.stderr
        assert "Esclusi" in result.stderr  # the caption names what is left out
        files.append(out.read_bytes())
    assert files[0] == files[1]
    uids = [e["uid"] for e in _events(files[0])]
    assert len(uids) == len(set(uids)) > 0


def test_export_to_stdout_and_an_unknown_visit() -> None:
    result = run_cli("export", "ics", "--visit", APRIL, "--lang", "ko")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("BEGIN:VCALENDAR")
    missing = run_cli("export", "ics", "--visit", "nowhere")
    assert missing.returncode == 2
    assert AUGUST in missing.stderr
