"""The one-screen /briefing: what a reader needs minutes before a meeting, the rest behind buttons.

It reads the clock. Before the visit: when it starts and its first day. During it: "day n of N",
today's items in order and what comes next. After it: what came of it (outcomes reported by
then, follow-ups). Always: the visit and its dates, the frame (the agreement), the counterparts
in both scripts, the dossier's two or three talking points and its one line on what is not
known. Which facts make it is the dossier's editorial choice (`key`), not a guess made here.
"""

from datetime import datetime
from typing import Any, Final

from briefings.articles import Article
from briefings.dates import format_month, format_short_day, format_visit_dates
from briefings.dossier import Event, Person, Visit, span_of
from briefings.knowledge import known_from
from briefings.labels import label
from briefings.languages import Lang
from briefings.library import local_today, status
from briefings.partnership import Partnership
from briefings.replies import Reply
from briefings.views import Marks, navigation

# The most programme lines one screen holds beside the rest.
MAX_ITEMS: Final = 5
_KO_NUMBERS: Final = "①②③④⑤⑥⑦⑧⑨"


def points(visit: Visit, marks: Marks, lang: Lang, known: frozenset[str]) -> list[str]:
    """The dossier's talking points known by then: one drawn from a later report waits for it."""
    if visit.summary is None:
        return []
    return [
        f"{p.text(lang)} {marks.of(p.cite)}"
        for p in visit.summary.points
        if known_from(p.cite, known)
    ]


def name(person: Person, lang: Lang) -> str:
    """Both scripts, Hangul first in Korean: `강기정(Kang Gijung)`, `Kang Gijung (강기정)`."""
    latin = next((n.text for n in person.names if n.script == "latin"), None)
    hangul = next((n.text for n in person.names if n.script == "hangul"), None)
    if latin and hangul:
        return f"{hangul}({latin})" if lang == "ko" else f"{latin} ({hangul})"
    return latin or hangul or person.id


def counterpart(person: Person, lang: Lang) -> str:
    """Both scripts, Hangul first in Korean: `강기정(Kang Gijung) 광주광역시장`, and
    `Kang Gijung (강기정), Mayor of Gwangju` in English and Italian."""
    if lang == "ko":
        return f"{name(person, lang)} {person.role(lang)}"
    return f"{name(person, lang)}, {person.role(lang)}"


def _number(n: int, lang: Lang) -> str:
    return _KO_NUMBERS[n - 1] if lang == "ko" and n <= len(_KO_NUMBERS) else f"{n}."


def _items(events: list[Event], marks: Marks, lang: Lang) -> list[str]:
    return [
        f"{_number(n, lang)} {e.title(lang)} {marks.of(e.cite)}"
        for n, e in enumerate(events[:MAX_ITEMS], start=1)
    ]


def _frame(partnership: Partnership, lang: Lang) -> str:
    agreement = partnership.agreement
    return label(
        "summary_frame",
        lang,
        name=agreement.title(lang),
        month=format_month(span_of(agreement.signed)[0], lang),
        place=agreement.place(lang),
    )


def summary_reply(
    visit: Visit,
    partnership: Partnership,
    articles: dict[str, Article],
    now: datetime,
    lang: Lang,
    *,
    known: frozenset[str],
) -> Reply:
    marks = Marks((*visit.articles, *partnership.articles), articles)
    phase = status(visit, now)
    today = local_today(visit, now)
    key = [e for e in visit.programme if e.key] or list(visit.programme)
    block: dict[str, Any]
    next_line = None
    if not visit.dated:
        state = label(f"visit_status_{phase}", lang)
        block = {
            "heading": label("summary_undated", lang),
            "items": _items([e for e in key if e.date is None], marks, lang),
        }
    elif phase == "upcoming":
        first = visit.days[0]
        state = label("summary_starts", lang, day=format_short_day(first, lang))
        block = {
            "heading": label("summary_first_day", lang, day=format_short_day(first, lang)),
            "items": _items([e for e in key if e.date == first], marks, lang),
        }
    elif phase == "under_way":
        n = visit.days.index(today) + 1
        state = label("day_of", lang, n=n, total=len(visit.days))
        block = {
            "heading": label("summary_today", lang, day=format_short_day(today, lang)),
            "items": _items(list(visit.events_on(today)), marks, lang),
        }
        later = [d for d in visit.days if d > today]
        if later:
            coming = visit.events_on(later[0])
            next_line = label(
                "summary_next",
                lang,
                day=format_short_day(later[0], lang),
                what=coming[0].title(lang) if coming else label("summary_not_published", lang),
            )
    else:
        state = label("summary_over", lang)
        came = [
            f"• {r.text(lang)} {marks.of(r.cite)}"
            for e in visit.programme
            for r in e.reported
            if r.key and known_from(r.cite, known)
        ]
        follow = [
            f"{f.label(lang)} ({label(f'follow_up_{f.status}', lang)}) {marks.of(f.cite)}"
            for f in partnership.follow_ups
            if f.visit == visit.id
        ]
        if follow:
            came.append(f"{label('partnership_follow_ups', lang)}: {' · '.join(follow)}")
        block = {
            "heading": label("summary_came_of_it", lang),
            "items": came[:MAX_ITEMS] or [label("summary_nothing_reported", lang)],
        }
    if not block["items"]:
        block["items"] = [label("summary_not_published", lang)]
    summary = visit.summary
    return Reply(
        "summary",
        lang,
        {
            "head": f"{visit.title(lang)} · {format_visit_dates(visit, lang)} · {state}",
            "frame": _frame(partnership, lang),
            "block": block,
            "no_times": visit.dated and phase != "past",
            "next": next_line,
            "counterparts": [counterpart(p, lang) for p in visit.people if p.key],
            "points": points(visit, marks, lang, known),
            "unknown": (
                f"{summary.unknown.text(lang)} {marks.of(summary.unknown.cite)}"
                if summary
                else None
            ),
        },
        navigation(visit, lang),
    )
