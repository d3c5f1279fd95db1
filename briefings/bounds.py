"""The one-screen promise, checked: `/briefing` fits a phone screen in every language, dialect and
phase of every visit. `briefing-bot check` runs this, so a dossier edit that would overflow the
screen fails before it reaches anyone.
"""

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from briefings.dossier import Visit
from briefings.knowledge import known_articles
from briefings.languages import LANGS, Lang
from briefings.library import Library
from briefings.rendering.dialects import DialectName
from briefings.rendering.renderer import Message, Renderer
from briefings.summary import summary_reply

MAX_LINES: Final = 14
MAX_CHARACTERS: Final = 1000
MAX_SLACK_BLOCKS: Final = 12
DIALECTS: Final[tuple[DialectName, ...]] = ("plain", "telegram", "slack")


@dataclass(frozen=True, slots=True)
class Overflow:
    visit: str
    phase: str
    lang: Lang
    dialect: DialectName
    reason: str

    def __str__(self) -> str:
        return f"{self.visit}: summary ({self.phase}, {self.lang}, {self.dialect}): {self.reason}"


def phases(visit: Visit) -> Iterator[tuple[str, datetime]]:
    """A moment before the visit, on each of its days, and after it (noon, its own time)."""
    zone = ZoneInfo(visit.timezone)

    def noon(day: date) -> datetime:
        return datetime.combine(day, time(12), tzinfo=zone)

    yield "before", noon(visit.first_day - timedelta(days=3))
    for n, day in enumerate(visit.days, start=1):
        yield f"day {n}", noon(day)
    if not visit.dated:
        yield "during", noon(visit.first_day + timedelta(days=14))
    yield "after", noon(visit.last_day + timedelta(days=7))


def overflows(library: Library, renderer: Renderer | None = None) -> list[Overflow]:
    renderer = renderer or Renderer()
    found = []
    for visit in library.visits:
        partnership = library.partnership_of(visit)
        for phase, moment in phases(visit):
            known = known_articles(library.articles, moment)
            for lang in LANGS:
                reply = summary_reply(
                    visit, partnership, library.articles, moment, lang, known=known
                )
                for dialect in DIALECTS:
                    messages = renderer.render(reply, dialect)
                    for reason in _problems(messages, dialect):
                        found.append(Overflow(visit.id, phase, lang, dialect, reason))
    return found


def _problems(messages: list[Message], dialect: DialectName) -> Iterator[str]:
    if len(messages) != 1:
        yield f"{len(messages)} messages, not one"
    for message in messages:
        text = "\n".join(message.sections) if dialect == "slack" else message.text
        visible = _visible(text, dialect)
        lines = visible.count("\n") + 1
        if lines > MAX_LINES:
            yield f"{lines} lines (at most {MAX_LINES})"
        if len(visible) > MAX_CHARACTERS:
            yield f"{len(visible)} characters (at most {MAX_CHARACTERS})"
        if dialect == "slack":
            blocks = len(message.sections) + (1 if message.buttons else 0)
            if blocks > MAX_SLACK_BLOCKS:
                yield f"{blocks} Slack blocks (at most {MAX_SLACK_BLOCKS})"


def _visible(text: str, dialect: DialectName) -> str:
    """The text a reader sees: markup and escapes taken away."""
    if dialect == "telegram":
        return html.unescape(re.sub(r"</?[a-z]+>", "", text))
    if dialect == "slack":
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return text
