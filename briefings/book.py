"""The briefing book: one self-contained HTML page per visit and language, to read on a phone
or print on A4 for the people who take part.

Pure: data in, bytes out. Everything shown is chosen here (facts known by `now`, their order,
footnote numbers, the timeline's layout), so the template only lays it out. Every fact carries
footnotes that quote the exact passage of its article, so a printed page can be traced to its
source without the bot.

HTML gets its own jinja2 Environment with autoescaping on. The chat renderer's Environment
escapes per dialect in its finalizer (Telegram HTML, Slack mrkdwn, plain text) and must keep
autoescape off; a page is always HTML, where jinja2's own autoescaping is the proven way to
escape by construction, and a second Environment keeps either from bending to the other.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Final

import jinja2

from briefings.articles import Article
from briefings.dates import format_day, format_short_day, format_visit_dates
from briefings.dossier import Citation, Event, Name, Person, Visit
from briefings.knowledge import known_from
from briefings.labels import label
from briefings.languages import Lang
from briefings.partnership import Partnership
from briefings.replies import Attachment
from briefings.summary import summary_reply
from briefings.views import Marks, agreement_data, article_label, when_label

MIME_TYPE: Final = "text/html"
TEMPLATES: Final = Path(__file__).parent / "rendering" / "book"
# The timeline's drawing, in SVG user units (it scales to the page's width).
SVG_WIDTH: Final = 640
SVG_DAY: Final = 34
SVG_LINE: Final = 22
SVG_TITLE: Final = 70


@dataclass
class Footnotes:
    """Numbers each distinct (article, passage) once, in order of first citation."""

    articles: dict[str, Article]
    lang: Lang
    notes: list[dict[str, Any]] = field(default_factory=list)
    _number: dict[Citation, int] = field(default_factory=dict)

    def __call__(self, cites: tuple[Citation, ...]) -> list[int]:
        numbers: list[int] = []
        for cite in cites:
            if cite not in self._number:
                article = self.articles[cite.article]
                self._number[cite] = len(self.notes) + 1
                self.notes.append(
                    {
                        "n": self._number[cite],
                        "quote": cite.quote,
                        "lang": article.language,
                        "source": article_label(article, self.lang),
                    }
                )
            if self._number[cite] not in numbers:
                numbers.append(self._number[cite])
        return numbers


def _name_lang(name: Name, articles: dict[str, Article]) -> str:
    if name.script == "hangul":
        return "ko"
    source = articles[name.article].language
    # A Korean source's Latin spelling is Korean written in Latin letters.
    return "ko-Latn" if source == "ko" else source


def _names(person: Person, articles: dict[str, Article]) -> list[dict[str, str]]:
    seen = dict.fromkeys((n.text, _name_lang(n, articles)) for n in person.names)
    return [{"text": text, "lang": lang} for text, lang in seen]


def _event(
    event: Event, visit: Visit, notes: Footnotes, lang: Lang, known: frozenset[str]
) -> dict[str, Any]:
    return {
        "id": event.id,
        "title": event.title(lang),
        "when": when_label(event, lang),
        "notes": notes(event.cite),
        "place": visit.place(event.place).name(lang) if event.place else None,
        "people": [
            {"names": _names(visit.person(p), notes.articles), "role": visit.person(p).role(lang)}
            for p in event.people
        ],
        "details": event.details(lang) if event.details else None,
        "reported": [
            {"text": r.text(lang), "notes": notes(r.cite)}
            for r in event.reported
            if known_from(r.cite, known)
        ],
    }


def _timeline(days: list[dict[str, Any]]) -> dict[str, Any]:
    """Where each day and item sits in the drawing: computed here, drawn by the template."""
    y = 24
    rows: list[dict[str, Any]] = []
    for day in days:
        items = []
        for n, event in enumerate(day["events"], start=1):
            title = event["title"]
            short = title if len(title) <= SVG_TITLE else title[: SVG_TITLE - 1] + "…"
            items.append({"y": y + n * SVG_LINE, "text": short})
        rows.append({"y": y, "label": day["short"], "items": items})
        y += SVG_DAY + SVG_LINE * len(items)
    return {"width": SVG_WIDTH, "height": y, "rows": rows, "line_end": max(24, y - SVG_DAY)}


def book_data(
    visit: Visit,
    partnership: Partnership,
    articles: dict[str, Article],
    now: datetime,
    lang: Lang,
    *,
    known: frozenset[str],
) -> dict[str, Any]:
    notes = Footnotes(articles, lang)
    marks = Marks((*visit.articles, *partnership.articles), articles)
    days: list[dict[str, Any]] = [
        {
            "heading": format_day(d, lang),
            "short": format_short_day(d, lang),
            "events": [_event(e, visit, notes, lang, known) for e in visit.events_on(d)],
        }
        for d in visit.days
    ]
    if visit.undated_events:
        days.append(
            {
                "heading": label("date_not_stated", lang),
                "short": label("date_not_stated", lang),
                "events": [_event(e, visit, notes, lang, known) for e in visit.undated_events],
            }
        )
    sides: dict[str, list[dict[str, Any]]] = {"delegation": [], "host": [], "other": []}
    for person in visit.people:
        sides[person.side].append(
            {
                "names": _names(person, articles),
                "role": person.role(lang),
                "organisation": person.organisation(lang) if person.organisation else None,
                "notes": notes(person.cite),
            }
        )
    quotes = [
        {
            "original": q.original,
            "original_lang": q.lang,
            "translation": q.text(lang) if q.lang != lang else None,
            "speaker": (
                _names(visit.person(q.speaker), articles)
                if q.speaker
                else [{"text": label("speaker_not_stated", lang), "lang": lang}]
            ),
            "context": q.context(lang),
            "notes": notes(q.cite),
        }
        for q in visit.quotes
        if known_from(q.cite, known)
    ]
    agreement = agreement_data(partnership, marks, lang)
    return {
        "lang": lang,
        "title": visit.title(lang),
        "dates": format_visit_dates(visit, lang),
        "dates_notes": notes(visit.dates_cite),
        "dated": visit.dated,
        "tz": visit.timezone,
        "partnership": partnership.title(lang),
        "cities": [c.name(lang) for c in partnership.cities],
        "agreement": agreement["signed"],
        "agreement_notes": notes(partnership.agreement.cite),
        "purpose": visit.purpose.text(lang),
        "purpose_notes": notes(visit.purpose.cite),
        "summary": summary_reply(visit, partnership, articles, now, lang, known=known).data,
        "summary_sources": marks.footer(lang),
        "days": days,
        "timeline": _timeline(days),
        "sides": [
            {"heading": label(f"side_{side}", lang), "people": members}
            for side, members in sides.items()
            if members
        ],
        "quotes": quotes,
        "background": [
            {"text": s.text(lang), "notes": notes(s.cite)}
            for s in (*visit.background, *partnership.context)
        ],
        "follow_ups": [
            {
                "text": f.text(lang),
                "status": label(f"follow_up_{f.status}", lang),
                "notes": notes(f.cite),
            }
            for f in partnership.follow_ups
            if f.visit == visit.id
        ],
        "open_questions": [
            {"text": s.text(lang), "notes": notes(s.cite)} for s in visit.open_questions
        ],
        "source_notes": [
            {"kind": label(f"note_{n.kind}", lang), "text": n.text(lang), "notes": notes(n.cite)}
            for n in visit.source_notes
        ],
        "footnotes": notes.notes,
    }


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["t"] = label
    return env


def render_book(
    visit: Visit,
    partnership: Partnership,
    articles: dict[str, Article],
    now: datetime,
    lang: Lang,
    *,
    known: frozenset[str],
) -> bytes:
    data = book_data(visit, partnership, articles, now, lang, known=known)
    return _environment().get_template("book.html.j2").render(**data).encode("utf-8")


def book_filename(visit: Visit, lang: Lang) -> str:
    return f"{visit.id}.{lang}.html"


def book_attachment(
    visit: Visit,
    partnership: Partnership,
    articles: dict[str, Article],
    now: datetime,
    lang: Lang,
    *,
    known: frozenset[str],
) -> Attachment:
    content = render_book(visit, partnership, articles, now, lang, known=known)
    caption = label(
        "book_caption", lang, title=visit.title(lang), dates=format_visit_dates(visit, lang)
    )
    return Attachment(book_filename(visit, lang), MIME_TYPE, content, caption)


def etag(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
