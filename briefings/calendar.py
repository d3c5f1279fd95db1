"""A visit's programme as an iCalendar file (RFC 5545), for people's own calendars.

Pure: a visit in, bytes out. Every dated event becomes one all-day VEVENT on its day: no source
gives a clock time, and a calendar entry at an invented hour would be read as a fact. Events the
sources give no day are left out (the caption names them) rather than pinned to a guessed day.

Re-importing or re-fetching the file must update events, never duplicate them, so everything a
calendar app keys on is derived from the dossier alone, never from the clock, the process or the
file system (a seed file's mtime differs between clones):
- UID: the visit id, the event id and a fixed domain;
- DTSTAMP and LAST-MODIFIED: the latest publication among the articles the entry cites, i.e.
  when its information last changed in the sources;
- SEQUENCE: how many distinct articles the entry draws on, which grows as later sources add to
  it (a revision counter must only grow; a hash would not);
- X-BRIEFINGS-REVISION: a hash of the entry's content, which changes with any edit at all.
"""

import hashlib
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from briefings.articles import Article
from briefings.dates import format_visit_dates
from briefings.dossier import Citation, Event, Visit
from briefings.knowledge import known_from
from briefings.labels import label
from briefings.languages import Lang
from briefings.partnership import Partnership
from briefings.replies import Attachment
from briefings.views import article_label, person_line, when_label

MIME_TYPE: Final = "text/calendar"
# The right-hand side of every UID: fixed, so the same event keeps its UID everywhere. A
# reserved name (RFC 2606), since the project has no domain of its own to vouch for it.
UID_DOMAIN: Final = "partnership-briefings.invalid"
PRODID: Final = "-//Partnership Briefings//Visit programme//EN"
# Undated events named in a caption at most; the rest are counted. Keeps a Telegram caption
# (1024 characters) safe whatever the dossier holds.
CAPTION_NAMES: Final = 6
# How often a subscribed calendar app should look again (a hint; the feed revalidates cheaply).
REFRESH: Final = timedelta(hours=12)


def event_uid(visit: Visit, event: Event) -> str:
    return f"{event.id}.{visit.id}@{UID_DOMAIN}"


def calendar_filename(visit: Visit, lang: Lang) -> str:
    return f"{visit.id}.{lang}.ics"


def _cites(event: Event, known: frozenset[str]) -> list[Citation]:
    reported = [c for r in event.reported if known_from(r.cite, known) for c in r.cite]
    return [*event.cite, *reported]


def _published(article: Article) -> datetime | None:
    if article.published is not None:
        moment = article.published
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    if article.written_before is not None:
        return datetime.combine(article.written_before, time(), tzinfo=UTC)
    return None


def revised_at(
    article_ids: Iterable[str], articles: dict[str, Article], fallback: date
) -> datetime:
    """When the information last changed: the latest publication among these articles."""
    moments = [m for a in article_ids if (m := _published(articles[a])) is not None]
    return max(moments, default=datetime.combine(fallback, time(), tzinfo=UTC))


def _description(
    event: Event,
    visit: Visit,
    articles: dict[str, Article],
    lang: Lang,
    known: frozenset[str],
) -> str:
    assert event.date is not None
    same_day = visit.events_on(event.date)
    lines = [label("calendar_order", lang, n=same_day.index(event) + 1, total=len(same_day))]
    lines.append(when_label(event, lang) or label("time_not_stated", lang))
    if event.details is not None:
        lines += ["", event.details(lang)]
    outcomes = [r.text(lang) for r in event.reported if known_from(r.cite, known)]
    if outcomes:
        lines += ["", *outcomes]
    if event.people:
        lines += ["", label("with", lang) + ":"]
        lines += [f"- {person_line(visit.person(p), lang)}" for p in event.people]
    lines += ["", label("sources", lang) + ":"]
    for cite in dict.fromkeys(_cites(event, known)):
        lines.append(f"- {article_label(articles[cite.article], lang)}: “{cite.quote}”")
    return "\n".join(lines)


def visit_calendar(
    visit: Visit,
    partnership: Partnership,
    articles: dict[str, Article],
    lang: Lang,
    *,
    known: frozenset[str],
) -> bytes:
    """The visit's dated events as an iCalendar file in `lang`."""
    # Imported here: icalendar takes a fifth of a console start that never sends a calendar.
    from icalendar import Calendar, Timezone
    from icalendar import Event as VEvent

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    name = f"{visit.title(lang)} · {format_visit_dates(visit, lang)}"
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-caldesc", partnership.title(lang))
    calendar.add("x-wr-timezone", visit.timezone)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT12H")
    # The visit's zone, for the reader's app to show; it also keeps a calendar of a visit
    # without dated events a valid one (RFC 5545 wants at least one component).
    calendar.add_component(
        Timezone.from_tzid(visit.timezone, first_date=visit.first_day, last_date=visit.last_day)
    )
    for event in visit.programme:
        if event.date is None:
            continue
        cites = _cites(event, known)
        description = _description(event, visit, articles, lang, known)
        entry = VEvent()
        entry.add("uid", event_uid(visit, event))
        stamp = revised_at((c.article for c in cites), articles, visit.first_day)
        entry.add("dtstamp", stamp)
        entry.add("last-modified", stamp)
        entry.add("sequence", len({c.article for c in cites}) - 1)
        entry.add("dtstart", event.date)
        entry.add("dtend", event.date + timedelta(days=1))
        entry.add("summary", event.title(lang))
        entry.add("description", description)
        if event.place is not None:
            entry.add("location", visit.place(event.place).name(lang))
        entry.add("transp", "TRANSPARENT")
        entry.add("status", "CONFIRMED")
        content = "\n".join((event.title(lang), description, str(event.date), event.place or ""))
        revision = hashlib.sha256(content.encode()).hexdigest()[:16]
        entry.add("x-briefings-revision", revision)
        calendar.add_component(entry)
    ical: bytes = calendar.to_ical()
    return ical


def left_out(visit: Visit, lang: Lang) -> str:
    """The undated events by name, the first few, with a count of the rest."""
    titles = [e.title(lang) for e in visit.undated_events]
    shown = "; ".join(titles[:CAPTION_NAMES])
    more = len(titles) - CAPTION_NAMES
    return shown + (label("and_more", lang, n=more) if more > 0 else "")


def calendar_attachment(
    visit: Visit,
    partnership: Partnership,
    articles: dict[str, Article],
    lang: Lang,
    *,
    known: frozenset[str],
) -> Attachment:
    dated = sum(1 for e in visit.programme if e.date is not None)
    caption = label(
        "calendar_caption",
        lang,
        n=dated,
        title=visit.title(lang),
        dates=format_visit_dates(visit, lang),
    )
    if visit.undated_events:
        caption += " " + label("calendar_left_out", lang, names=left_out(visit, lang))
    return Attachment(
        calendar_filename(visit, lang),
        MIME_TYPE,
        visit_calendar(visit, partnership, articles, lang, known=known),
        caption,
    )
