"""Turn the dossier into view data for one reply, in one language.

Everything a template shows is decided here (which facts, in which order, dates formatted for the
locale, citation marks), so templates only lay it out. Pure functions: no clock, no I/O.
"""

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, Final

from briefings.actions import Action, View
from briefings.articles import Article
from briefings.dates import (
    format_day,
    format_moment,
    format_partial_date,
    format_published,
    format_short_day,
    format_visit_dates,
)
from briefings.dossier import (
    Citation,
    Event,
    Person,
    Quote,
    SourceNote,
    Statement,
    Visit,
)
from briefings.knowledge import known_from
from briefings.labels import label
from briefings.languages import Lang
from briefings.partnership import Partnership
from briefings.ports import DeliveryProblem
from briefings.replies import Button, Reply, Say
from briefings.schedule import Digest, due_at

if TYPE_CHECKING:
    from briefings.commands import Command
    from briefings.library import Library


def agreement_data(partnership: Partnership, marks: "Marks", lang: Lang) -> dict[str, Any]:
    agreement = partnership.agreement
    return {
        "signed": label(
            "agreement_signed",
            lang,
            month=format_partial_date(agreement.signed, lang),
            place=agreement.place(lang),
            occasion=agreement.occasion(lang),
        ),
        "marks": marks.of(agreement.cite),
        "names": [
            {"name": n.name, "gloss": n.gloss(lang), "marks": marks.of(n.cite)}
            for n in agreement.names
        ],
    }


def about(visit: Visit, lang: Lang) -> str:
    """The line that names which visit a reply is about."""
    return f"{visit.title(lang)} · {format_visit_dates(visit, lang)}"


def day_buttons(visit: Visit, lang: Lang, selected: date | None = None) -> tuple[Button, ...]:
    return tuple(
        Button(format_short_day(d, lang), Action("day", visit.id, d), d == selected)
        for d in visit.days
    )


# The parts a briefing opens in place, in the order of their buttons.
PARTS: Final = ("people", "quotes", "background", "sources", "dossier")


def part_buttons(visit: Visit, lang: Lang, selected: str | None = None) -> tuple[Button, ...]:
    """The briefing itself, then each of its parts; the one shown is marked."""
    views: tuple[View, ...] = ("briefing", *PARTS)
    return tuple(
        Button(label(f"part_{view}", lang), Action(view, visit.id), view == selected)
        for view in views
    )


def navigation(
    visit: Visit, lang: Lang, view: str | None = None, day: date | None = None
) -> tuple[Button, ...]:
    """Every day and every part of the visit, to move between them in place and come back."""
    return (*day_buttons(visit, lang, day), *part_buttons(visit, lang, view))


class Marks:
    """Numbers articles in the dossier's order so that facts cite them compactly: [1][2]."""

    def __init__(self, article_ids: Sequence[str], articles: dict[str, Article]) -> None:
        ids = list(dict.fromkeys(article_ids))
        self._number = {article_id: n for n, article_id in enumerate(ids, start=1)}
        self._articles = [articles[a] for a in ids]

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
        format_published(article.published.date(), lang)
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
    # No source gives a clock time: the reply says so once, not on every line.
    return "; ".join(parts)


def event_data(
    event: Event, visit: Visit, marks: Marks, lang: Lang, known: frozenset[str]
) -> dict[str, Any]:
    return {
        "reported": [
            {"text": r.text(lang), "marks": marks.of(r.cite)}
            for r in event.reported
            if known_from(r.cite, known)
        ],
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
    visit: Visit,
    articles: dict[str, Article],
    day: date,
    lang: Lang,
    *,
    known: frozenset[str],
    notice: Say | None = None,
) -> Reply:
    marks = Marks(visit.articles, articles)
    events = visit.events_on(day)
    return Reply(
        "day",
        lang,
        {
            "notice": notice,
            "about": about(visit, lang),
            "heading": format_day(day, lang),
            "day_of": label("day_of", lang, n=visit.days.index(day) + 1, total=len(visit.days)),
            "tz": visit.timezone,
            "events": [event_data(e, visit, marks, lang, known) for e in events],
            "sources": marks.footer(lang),
        },
        navigation(visit, lang, day=day),
    )


def days_reply(visit: Visit, lang: Lang, problem: Say | None) -> Reply:
    """The visit's days with an example: the answer to any day we cannot serve."""
    return Reply(
        "days",
        lang,
        {
            "problem": problem,
            "about": about(visit, lang),
            "days": [
                {"n": n, "label": format_day(d, lang)} for n, d in enumerate(visit.days, start=1)
            ],
        },
        day_buttons(visit, lang),
    )


def dossier_reply(
    visit: Visit,
    partnership: Partnership,
    articles: dict[str, Article],
    lang: Lang,
    known: frozenset[str],
) -> Reply:
    """The whole visit, every fact known by then: the long reply behind the briefing's button."""
    marks = Marks((*visit.articles, *partnership.articles), articles)
    programme = [
        {
            "heading": format_day(d, lang),
            "events": [event_data(e, visit, marks, lang, known) for e in visit.events_on(d)],
        }
        for d in visit.days
    ]
    if visit.undated_events:
        programme.insert(
            0,
            {
                "heading": label("date_not_stated", lang),
                "events": [event_data(e, visit, marks, lang, known) for e in visit.undated_events],
            },
        )
    return Reply(
        "dossier",
        lang,
        {
            "title": visit.title(lang),
            "dates": format_visit_dates(visit, lang),
            "dates_marks": marks.of(visit.dates_cite),
            "tz": visit.timezone,
            "purpose": visit.purpose.text(lang),
            "purpose_marks": marks.of(visit.purpose.cite),
            "partnership": {
                **agreement_data(partnership, marks, lang),
                "context": [_statement(s, marks, lang) for s in partnership.context],
            },
            "sides": people_by_side(visit.people, marks, lang),
            "programme": programme,
            "quotes": [
                quote_data(q, visit, marks, lang) for q in visit.quotes if known_from(q.cite, known)
            ],
            "background": [_statement(s, marks, lang) for s in visit.background],
            "open_questions": [_statement(s, marks, lang) for s in visit.open_questions],
            "notes": [
                {**_statement(n, marks, lang), "kind": label(f"note_{n.kind}", lang)}
                for n in visit.source_notes
            ],
            "sources": marks.footer(lang),
        },
        navigation(visit, lang, "dossier"),
    )


def quotes_reply(
    visit: Visit, articles: dict[str, Article], lang: Lang, known: frozenset[str]
) -> Reply:
    """What was said, by whom, when and where, as reported by then."""
    marks = Marks(visit.articles, articles)
    said = []
    for quote in visit.quotes:
        if not known_from(quote.cite, known):
            continue
        event = next((e for e in visit.programme if e.id == quote.event), None)
        when = None
        if event is not None:
            day = format_day(event.date, lang) if event.date else label("date_not_stated", lang)
            when = f"{event.title(lang)}, {day}"
        said.append({**quote_data(quote, visit, marks, lang), "when": when})
    return Reply(
        "quotes",
        lang,
        {"about": about(visit, lang), "quotes": said, "sources": marks.footer(lang)},
        navigation(visit, lang, "quotes"),
    )


def background_reply(
    visit: Visit, partnership: Partnership, articles: dict[str, Article], lang: Lang
) -> Reply:
    """Why it matters: the visit's background, the partnership's context, what is still open."""
    marks = Marks((*visit.articles, *partnership.articles), articles)
    return Reply(
        "background",
        lang,
        {
            "about": about(visit, lang),
            "background": [_statement(s, marks, lang) for s in visit.background],
            "context": [_statement(s, marks, lang) for s in partnership.context],
            "open_questions": [_statement(s, marks, lang) for s in visit.open_questions],
            "sources": marks.footer(lang),
        },
        navigation(visit, lang, "background"),
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
    marks = Marks(visit.articles, articles)
    return Reply(
        "people",
        lang,
        {
            "about": about(visit, lang),
            "sides": people_by_side(visit.people, marks, lang),
            "sources": marks.footer(lang),
        },
        navigation(visit, lang, "people"),
    )


def who_reply(
    visit: Visit, articles: dict[str, Article], people: Sequence[Person], lang: Lang
) -> Reply:
    marks = Marks(visit.articles, articles)
    cards = []
    for person in people:
        has_hangul = any(n.script == "hangul" for n in person.names)
        cards.append(
            {
                "names": person_names(person),
                "hangul_missing": not has_hangul,
                # A likely spelling no source uses, with why: never shown as the name itself.
                "variants": [v.note(lang) for v in person.variants],
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
    return Reply(
        "who", lang, {"about": about(visit, lang), "cards": cards, "sources": marks.footer(lang)}
    )


def sources_reply(visit: Visit, articles: dict[str, Article], lang: Lang) -> Reply:
    marks = Marks(visit.articles, articles)
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
            "about": about(visit, lang),
            "articles": listed,
            "notes": [
                {**_statement(n, marks, lang), "kind": label(f"note_{n.kind}", lang)}
                for n in visit.source_notes
            ],
        },
        navigation(visit, lang, "sources"),
    )


def notice_reply(
    say: Say, lang: Lang, *, visit: Visit | None = None, buttons: tuple[Button, ...] = ()
) -> Reply:
    """A short answer; `visit` names the visit it is about, where it is about one."""
    return Reply(
        "notice", lang, {"message": say, "about": about(visit, lang) if visit else None}, buttons
    )


def help_reply(commands: "Sequence[Command]", lang: Lang, partnership: Partnership | None) -> Reply:
    """The commands, as each platform spells them; on /start, a welcome naming the partnership."""
    welcome = Say("welcome", title=partnership.title(lang)) if partnership else None
    listed = [{"name": c.name, "args": c.args(lang), "summary": c.summary(lang)} for c in commands]
    return Reply("help", lang, {"welcome": welcome, "commands": listed})


def visits_reply(
    visits: Sequence[Visit],
    current: Visit,
    chosen: str | None,
    now: datetime,
    lang: Lang,
    *,
    problem: Say | None = None,
) -> Reply:
    """The partnership's visits in order, each with its status against the clock; a button
    opens each one's briefing without changing the chat's choice."""
    from briefings.library import status

    listed = [
        {
            "n": n,
            "title": v.title(lang),
            "dates": format_visit_dates(v, lang),
            "status": label(f"visit_status_{status(v, now)}", lang),
            "current": v.id == current.id,
        }
        for n, v in enumerate(visits, start=1)
    ]
    buttons = tuple(
        Button(f"{n}. {format_visit_dates(v, lang)}", Action("briefing", v.id), v.id == current.id)
        for n, v in enumerate(visits, start=1)
    )
    return Reply(
        "visits",
        lang,
        {"problem": problem, "visits": listed, "following_clock": chosen is None},
        buttons,
    )


def partnership_reply(
    partnership: Partnership, visits: Sequence[Visit], articles: dict[str, Article], lang: Lang
) -> Reply:
    """The relationship across its visits: the agreement, the timeline, what is still open."""
    marks = Marks(partnership.articles, articles)
    return Reply(
        "partnership",
        lang,
        {
            "title": partnership.title(lang),
            "agreement": agreement_data(partnership, marks, lang),
            "context": [_statement(s, marks, lang) for s in partnership.context],
            "timeline": [
                {
                    "when": format_partial_date(e.when, lang),
                    "text": e.text(lang),
                    "marks": marks.of(e.cite),
                }
                for e in partnership.timeline
            ],
            "follow_ups": [
                {
                    "text": f.text(lang),
                    "status": label(f"follow_up_{f.status}", lang),
                    "marks": marks.of(f.cite),
                }
                for f in partnership.follow_ups
            ],
            "visits": [about(v, lang) for v in visits],
            "sources": marks.footer(lang),
        },
        tuple(
            Button(f"{n}. {format_visit_dates(v, lang)}", Action("briefing", v.id))
            for n, v in enumerate(visits, start=1)
        ),
    )


def _statement(fact: Statement | SourceNote, marks: Marks, lang: Lang) -> dict[str, str]:
    return {"text": fact.text(lang), "marks": marks.of(fact.cite)}


def subscription_reply(
    plan: Sequence[Digest],
    library: "Library",
    *,
    at: time,
    timezone: str,
    now: datetime,
    lang: Lang,
    headline: Say,
    problem: DeliveryProblem | None = None,
) -> Reply:
    """What a subscription will send and when, in the subscriber's own time zone: the digests
    of every dated visit of the partnership; and the last one that never reached the chat,
    which the subscriber would otherwise only notice by its absence."""
    schedule = []
    for digest in plan:
        visit = library.visit(digest.visit_id)
        moment = due_at(digest, at, timezone)
        schedule.append(
            {
                "kind": label(f"digest_kind_{digest.kind}", lang),
                "visit": visit.title(lang) if visit else digest.visit_id,
                "when": format_moment(moment, timezone, lang),
                "past": moment <= now,
            }
        )
    values: dict[str, Any] = {"headline": headline, "schedule": schedule, "tz": timezone}
    values["problem"] = _problem(problem, library, timezone, lang) if problem else None
    return Reply("subscription", lang, values)


def _problem(problem: DeliveryProblem, library: "Library", timezone: str, lang: Lang) -> Say:
    try:
        digest = Digest.parse(problem.digest_key)
    except ValueError:
        name = problem.digest_key
    else:
        visit = library.visit(digest.visit_id)
        title = visit.title(lang) if visit else digest.visit_id
        name = f"{label(f'digest_kind_{digest.kind}', lang)} · {title}"
    when = format_moment(problem.at, timezone, lang)
    return Say(f"delivery_problem_{problem.status}", digest=name, when=when)
