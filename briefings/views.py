"""Turn the dossier into view data for one reply, in one language.

Everything a template shows is decided here (which facts, in which order, dates formatted for the
locale, citation marks), so templates only lay it out. Pure functions: no clock, no I/O.
"""

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_skeleton

from briefings.articles import Article
from briefings.dossier import (
    Citation,
    Event,
    Person,
    Quote,
    SourceNote,
    Statement,
    Visit,
    span_of,
)
from briefings.labels import label
from briefings.languages import Lang
from briefings.partnership import Partnership
from briefings.replies import Button, Reply

_LOCALES: dict[Lang, str] = {"en": "en_GB", "it": "it_IT", "ko": "ko_KR"}
# English in the day-month-year order both cities' staff write; Babel's en_GB adds a comma.
_FULL: dict[Lang, str] = {"en": "EEEE d MMMM y", "it": "full", "ko": "full"}


def format_day(day: date, lang: Lang) -> str:
    return format_date(day, _FULL[lang], locale=_LOCALES[lang])


def format_short_day(day: date, lang: Lang) -> str:
    return format_skeleton("MMMEd", day, locale=_LOCALES[lang])


def format_span(start: date, end: date, lang: Lang) -> str:
    return f"{format_day(start, lang)} – {format_day(end, lang)}"


def format_month(day: date, lang: Lang) -> str:
    """The month alone, where the sources give no day: April 2024, aprile 2024, 2024년 4월."""
    return format_skeleton("yMMMM", day, locale=_LOCALES[lang])


def format_visit_dates(visit: Visit, lang: Lang) -> str:
    """The visit's days, or its month with the days said to be unknown (never invented)."""
    if visit.start is not None and visit.end is not None:
        return format_span(visit.start, visit.end, lang)
    return label("month_days_not_stated", lang, month=format_month(visit.first_day, lang))


def day_buttons(visit: Visit, lang: Lang, selected: date | None = None) -> tuple[Button, ...]:
    return tuple(
        Button(format_short_day(d, lang), f"itinerary {d.isoformat()}", d == selected)
        for d in visit.days
    )


class Marks:
    """Numbers articles in the visit's order so that facts cite them compactly: [1][2]."""

    def __init__(
        self, visit: Visit, articles: dict[str, Article], also: Iterable[str] = ()
    ) -> None:
        # The visit's articles first; any other that `also` (a partnership) cites after them.
        order = list(dict.fromkeys([*visit.articles, *also]))
        self._number = {article_id: n for n, article_id in enumerate(order, start=1)}
        self._articles = [articles[a] for a in order]

    def of(self, cites: Iterable[Citation]) -> str:
        numbers = sorted({self._number[c.article] for c in cites})
        return "".join(f"[{n}]" for n in numbers)

    def footer(self, lang: Lang) -> list[dict[str, str]]:
        return [
            {"mark": f"[{n}]", "label": article_label(a, lang)}
            for n, a in enumerate(self._articles, start=1)
        ]


def article_label(article: Article, lang: Lang) -> str:
    outlet = article.outlet or label("outlet_not_stated", lang)
    when = (
        format_date(article.published.date(), "medium", locale=_LOCALES[lang])
        if article.published
        else label("published_not_stated", lang)
    )
    return f"{label('article_' + article.language, lang)}, {outlet}, {when}"


def person_names(person: Person) -> str:
    return " / ".join(dict.fromkeys(n.text for n in person.names))


def person_line(person: Person, lang: Lang) -> str:
    return f"{person_names(person)}, {person.role(lang)}"


def when_label(event: Event, lang: Lang) -> str:
    parts = []
    if event.part_of_day is not None:
        parts.append(label(f"part_{event.part_of_day}", lang))
    if event.when_note is not None:
        parts.append(event.when_note(lang))
    return "; ".join(parts) or label("time_not_stated", lang)


def event_data(event: Event, visit: Visit, marks: Marks, lang: Lang) -> dict[str, Any]:
    return {
        "when": when_label(event, lang),
        "title": event.title(lang),
        "marks": marks.of(event.cite),
        "place": visit.place(event.place).name(lang) if event.place else None,
        "people": [person_line(visit.person(p), lang) for p in event.people],
        "details": event.details(lang) if event.details else None,
    }


def quote_data(quote: Quote, visit: Visit, marks: Marks, lang: Lang) -> dict[str, Any]:
    speaker = (
        person_names(visit.person(quote.speaker))
        if quote.speaker
        else label("speaker_not_stated", lang)
    )
    translated = quote.lang != lang
    return {
        "text": quote.text(lang),
        "speaker": speaker,
        "context": quote.context(lang),
        "translation": (
            label("translation_from", lang, language=label(f"lang_name_{quote.lang}", lang))
            if translated
            else None
        ),
        "marks": marks.of(quote.cite),
    }


def day_reply(
    visit: Visit, articles: dict[str, Article], day: date, lang: Lang, notice: str | None = None
) -> Reply:
    marks = Marks(visit, articles)
    events = visit.events_on(day)
    return Reply(
        "day",
        lang,
        {
            "notice": notice,
            "heading": format_day(day, lang),
            "day_of": label("day_of", lang, n=visit.days.index(day) + 1, total=len(visit.days)),
            "tz": visit.timezone,
            "events": [event_data(e, visit, marks, lang) for e in events],
            "sources": marks.footer(lang),
        },
        day_buttons(visit, lang, day),
    )


def days_reply(visit: Visit, lang: Lang, problem: str | None) -> Reply:
    """The visit's days with an example: the answer to any day we cannot serve."""
    return Reply(
        "days",
        lang,
        {
            "problem": problem,
            "days": [
                {"n": n, "label": format_day(d, lang)} for n, d in enumerate(visit.days, start=1)
            ],
        },
        day_buttons(visit, lang),
    )


def briefing_reply(
    visit: Visit,
    partnership: Partnership,
    articles: dict[str, Article],
    lang: Lang,
    notice: str | None = None,
) -> Reply:
    marks = Marks(visit, articles, partnership.articles)
    programme = [
        {
            "heading": format_day(d, lang),
            "events": [event_data(e, visit, marks, lang) for e in visit.events_on(d)],
        }
        for d in visit.days
    ]
    if visit.undated_events:
        programme.insert(
            0,
            {
                "heading": label("date_not_stated", lang),
                "events": [event_data(e, visit, marks, lang) for e in visit.undated_events],
            },
        )
    agreement = partnership.agreement
    return Reply(
        "briefing",
        lang,
        {
            "notice": notice,
            "title": visit.title(lang),
            "dates": format_visit_dates(visit, lang),
            "dates_marks": marks.of(visit.dates_cite),
            "tz": visit.timezone,
            "purpose": visit.purpose.text(lang),
            "purpose_marks": marks.of(visit.purpose.cite),
            "partnership": {
                "signed": label(
                    "agreement_signed",
                    lang,
                    month=format_month(span_of(agreement.signed)[0], lang),
                    place=agreement.place(lang),
                    occasion=agreement.occasion(lang),
                ),
                "marks": marks.of(agreement.cite),
                "names": [
                    {"name": n.name, "gloss": n.gloss(lang), "marks": marks.of(n.cite)}
                    for n in agreement.names
                ],
                "context": [_statement(s, marks, lang) for s in partnership.context],
            },
            "sides": people_by_side(visit.people, marks, lang),
            "programme": programme,
            "quotes": [quote_data(q, visit, marks, lang) for q in visit.quotes],
            "background": [_statement(s, marks, lang) for s in visit.background],
            "open_questions": [_statement(s, marks, lang) for s in visit.open_questions],
            "notes": [
                {**_statement(n, marks, lang), "kind": label(f"note_{n.kind}", lang)}
                for n in visit.source_notes
            ],
            "sources": marks.footer(lang),
        },
        day_buttons(visit, lang),
    )


def people_by_side(people: Iterable[Person], marks: Marks, lang: Lang) -> list[dict[str, Any]]:
    sides: dict[str, list[dict[str, str]]] = {"delegation": [], "host": [], "other": []}
    for person in people:
        sides[person.side].append(
            {
                "names": person_names(person),
                "role": person.role(lang),
                "marks": marks.of(person.cite),
            }
        )
    return [
        {"heading": label(f"side_{side}", lang), "people": members}
        for side, members in sides.items()
        if members
    ]


def people_reply(visit: Visit, articles: dict[str, Article], lang: Lang) -> Reply:
    marks = Marks(visit, articles)
    return Reply(
        "people",
        lang,
        {"sides": people_by_side(visit.people, marks, lang), "sources": marks.footer(lang)},
    )


def who_reply(
    visit: Visit, articles: dict[str, Article], people: Sequence[Person], lang: Lang
) -> Reply:
    marks = Marks(visit, articles)
    cards = []
    for person in people:
        has_hangul = any(n.script == "hangul" for n in person.names)
        cards.append(
            {
                "names": person_names(person),
                "hangul_missing": not has_hangul,
                "role": person.role(lang),
                "organisation": person.organisation(lang) if person.organisation else None,
                "side": label(f"side_{person.side}", lang),
                "marks": marks.of(person.cite),
                "events": [
                    {
                        "day": format_day(e.date, lang)
                        if e.date
                        else label("date_not_stated", lang),
                        "title": e.title(lang),
                    }
                    for e in visit.programme
                    if person.id in e.people
                ],
                "quotes": [
                    {"text": q.text(lang), "marks": marks.of(q.cite)}
                    for q in visit.quotes
                    if q.speaker == person.id
                ],
            }
        )
    return Reply("who", lang, {"cards": cards, "sources": marks.footer(lang)})


def sources_reply(visit: Visit, articles: dict[str, Article], lang: Lang) -> Reply:
    marks = Marks(visit, articles)
    listed = []
    for mark, article_id in zip(marks.footer(lang), visit.articles, strict=True):
        article = articles[article_id]
        listed.append(
            {
                **mark,
                "title": article.title or label("title_not_stated", lang),
                "byline": article.byline,
                "id": article.id,
            }
        )
    return Reply(
        "sources",
        lang,
        {
            "articles": listed,
            "notes": [
                {**_statement(n, marks, lang), "kind": label(f"note_{n.kind}", lang)}
                for n in visit.source_notes
            ],
        },
    )


def notice_reply(text: str, lang: Lang, buttons: tuple[Button, ...] = ()) -> Reply:
    return Reply("notice", lang, {"text": text}, buttons)


def _statement(fact: Statement | SourceNote, marks: Marks, lang: Lang) -> dict[str, str]:
    return {"text": fact.text(lang), "marks": marks.of(fact.cite)}


def subscription_reply(
    visit: Visit, *, at: time, timezone: str, now: datetime, lang: Lang, headline: str
) -> Reply:
    """What a subscription will send and when, in the subscriber's own time zone."""
    from briefings.digests import digests
    from briefings.schedule import due_at

    zone = ZoneInfo(timezone)
    schedule = []
    for digest in digests(visit):
        moment = due_at(digest, at, timezone)
        schedule.append(
            {
                "kind": label(f"digest_kind_{digest.kind}", lang),
                "when": format_datetime(
                    moment.astimezone(zone), _WHEN[lang], tzinfo=zone, locale=_LOCALES[lang]
                ),
                "past": moment <= now,
            }
        )
    return Reply("subscription", lang, {"headline": headline, "schedule": schedule, "tz": timezone})


_WHEN: dict[Lang, str] = {
    "en": "EEE d MMM y, HH:mm",
    "it": "EEE d MMM y, HH:mm",
    "ko": "y년 M월 d일 (E) HH:mm",
}
