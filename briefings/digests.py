"""What each scheduled digest of a visit says, true to its hour (when it falls due is
`schedule.py`): plans before an event, outcomes only once the article reporting them was out.

Eve preview: what tomorrow holds, whom they will meet, what to know. Morning: today's plan and
yesterday's outcomes in brief. Recap, the day after: what came of it, the key quotes, follow-ups
and what is still open. Each is one message on every platform.
"""

from datetime import datetime, timedelta
from typing import Any, Final

from briefings.articles import Article
from briefings.dates import format_day
from briefings.dossier import Event, Visit
from briefings.knowledge import known_articles, known_from
from briefings.labels import label
from briefings.languages import Lang
from briefings.partnership import Partnership
from briefings.replies import Reply, Say
from briefings.schedule import Digest, plan
from briefings.summary import counterpart, name, points
from briefings.views import Marks, about, quote_data

# Key quotes a recap carries at most: it is read in a minute, not a dossier again.
RECAP_QUOTES: Final = 3
# Outcomes a digest tells at most, the key ones first: in brief, not the dossier again.
BRIEF: Final = 2


def digests(visit: Visit) -> list[Digest]:
    return plan(visit.id, visit.days)


def digest_reply(
    digest: Digest,
    visit: Visit,
    partnership: Partnership,
    articles: dict[str, Article],
    lang: Lang,
    *,
    at: datetime,
) -> Reply:
    """The digest as a subscriber gets it at `at`: nothing reported later than that."""
    known = known_articles(articles, at)
    marks = Marks((*visit.articles, *partnership.articles), articles)
    data: dict[str, Any] = {
        "about": about(visit, lang),
        "kind": digest.kind,
        "items": [],
        "meet": [],
        "points": [],
        "outcomes": [],
        "quotes": [],
        "follow_ups": [],
        "unknown": None,
    }
    if digest.kind == "eve":
        first = visit.days[0]
        events = visit.events_on(first)
        data["heading"] = Say("digest_eve", day=format_day(first, lang))
        data["items"] = _plans(events, marks, lang)
        met = {p for e in events for p in e.people}
        data["meet"] = [counterpart(p, lang) for p in visit.people if p.id in met]
        data["points"] = points(visit, marks, lang, known)
    elif digest.kind == "morning":
        n = visit.days.index(digest.day) + 1
        data["heading"] = Say(
            "digest_morning", day=format_day(digest.day, lang), n=n, total=len(visit.days)
        )
        data["items"] = _plans(visit.events_on(digest.day), marks, lang)
        yesterday = digest.day - timedelta(days=1)
        data["outcomes"] = _outcomes(visit.events_on(yesterday), marks, lang, known)[:BRIEF]
    else:
        data["heading"] = Say("digest_recap")
        data["outcomes"] = _outcomes(visit.programme, marks, lang, known)[:BRIEF]
        key = [q for q in visit.quotes if q.key and known_from(q.cite, known)]
        data["quotes"] = [
            {**quote_data(q, visit, marks, lang), "speaker": _speaker(visit, q.speaker, lang)}
            for q in key[:RECAP_QUOTES]
        ]
        data["follow_ups"] = [
            f"{f.label(lang)} ({label(f'follow_up_{f.status}', lang)}) {marks.of(f.cite)}"
            for f in partnership.follow_ups
            if f.visit == visit.id
        ]
        if visit.summary is not None:
            unknown = visit.summary.unknown
            data["unknown"] = f"{unknown.text(lang)} {marks.of(unknown.cite)}"
    return Reply("digest", lang, data)


def _plans(events: tuple[Event, ...], marks: Marks, lang: Lang) -> list[str]:
    return [f"{n}. {e.title(lang)} {marks.of(e.cite)}" for n, e in enumerate(events, start=1)]


def _outcomes(
    events: tuple[Event, ...], marks: Marks, lang: Lang, known: frozenset[str]
) -> list[str]:
    """What came of the events as reported by then, the dossier's key outcomes first: a digest
    tells them in brief, the dossier in full."""
    reported = [r for e in events for r in e.reported if known_from(r.cite, known)]
    ordered = [r for r in reported if r.key] + [r for r in reported if not r.key]
    return [f"{r.text(lang)} {marks.of(r.cite)}" for r in ordered]


def _speaker(visit: Visit, speaker: str | None, lang: Lang) -> str:
    return name(visit.person(speaker), lang) if speaker else label("speaker_not_stated", lang)
