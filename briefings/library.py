"""Everything the bot knows, indexed for answering: partnerships, their visits, the articles.

Which visit a chat is about when it has chosen none is decided here, against the clock: the
visit under way, else the next one to come, else the most recent.
"""

import re
from collections.abc import Sequence
from datetime import date, datetime
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import get_month_names

from briefings.actions import ActionCodec
from briefings.articles import Article
from briefings.dossier import Visit
from briefings.folding import fold
from briefings.languages import LANGS
from briefings.loader import Seeds
from briefings.partnership import Partnership
from briefings.schedule import Digest, plan

Status = Literal["upcoming", "under_way", "past"]
_WORD = re.compile(r"\w+")
_HANGUL = re.compile(r"^[\uac00-\ud7a3]")
# Words people add when choosing a visit that say nothing about which one.
_FILLERS = frozenset({"the", "visit", "visita", "la", "il", "di", "del", "of", "in", "a", "방문"})


class Library:
    """Seeds in, lookups out. Built once at start-up; frozen like the seeds it holds."""

    def __init__(self, seeds: Seeds) -> None:
        self.articles: dict[str, Article] = seeds.articles
        self.partnerships: dict[str, Partnership] = seeds.partnerships
        self.visits: tuple[Visit, ...] = seeds.visits
        self._by_id = {v.id: v for v in seeds.visits}
        self.codec = ActionCodec(self._by_id)

    @cached_property
    def _vocabulary(self) -> dict[str, dict[str, int]]:
        """Built on the first search by words: it loads the month names of every language
        from Babel, a third of a console start that never searches."""
        return {v.id: _vocabulary(v, self.partnerships[v.partnership]) for v in self.visits}

    def visit(self, visit_id: str | None) -> Visit | None:
        return self._by_id.get(visit_id) if visit_id is not None else None

    def partnership_of(self, visit: Visit) -> Partnership:
        return self.partnerships[visit.partnership]

    def visits_of(self, partnership_id: str) -> tuple[Visit, ...]:
        """In the order they happened (month-precision visits by their month)."""
        return tuple(v for v in self.visits if v.partnership == partnership_id)

    def listed(self, partnership_id: str) -> tuple[Visit, ...]:
        """As /visits numbers them: the most recent first, as a partnership office reads a
        relationship's history."""
        return tuple(reversed(self.visits_of(partnership_id)))

    def plan(self, partnership_id: str) -> list[Digest]:
        """The digests of every dated visit of the partnership: what a subscription covers."""
        return [d for v in self.visits_of(partnership_id) for d in plan(v.id, v.days)]

    @cached_property
    def plans(self) -> dict[str, list[Digest]]:
        return {p: self.plan(p) for p in self.partnerships}

    def current(self, now: datetime, partnership_id: str | None = None) -> Visit:
        """The visit under way, else the next to come, else the most recent."""
        visits = self.visits_of(partnership_id) if partnership_id else self.visits
        upcoming: Visit | None = None
        for visit in visits:
            now_status = status(visit, now)
            if now_status == "under_way":
                return visit
            if now_status == "upcoming" and upcoming is None:
                upcoming = visit
        return upcoming if upcoming is not None else visits[-1]

    def find(self, words: str, visits: Sequence[Visit]) -> list[Visit]:
        """Visits a user means by a number (`2`), an id, or words (`aprile`, `torino`, `8월`).

        Several are returned when the words fit several equally well; none when they fit none.
        """
        text = words.strip()
        if text.isdigit() and 1 <= int(text) <= len(visits):
            return [visits[int(text) - 1]]
        exact = [v for v in visits if v.id == text.casefold()]
        if exact:
            return exact
        wanted = [w for w in _WORD.findall(fold(text)) if w not in _FILLERS]
        if not wanted:
            return []
        scores = [(sum(_weight(self._vocabulary[v.id], w) for w in wanted), v) for v in visits]
        best = max(score for score, _ in scores)
        return [v for score, v in scores if best and score == best]


def _weight(vocabulary: dict[str, int], word: str) -> int:
    """A word's weight for a visit; a Hangul word also counts as the start of a longer one,
    since Korean adds what English writes apart (`토리노` in `토리노시`, `광주` in `광주광역시`)."""
    exact = vocabulary.get(word, 0)
    if len(word) >= 2 and _HANGUL.match(word):
        return max((w for v, w in vocabulary.items() if v.startswith(word)), default=exact)
    return exact


def status(visit: Visit, now: datetime) -> Status:
    today = local_today(visit, now)
    if today < visit.first_day:
        return "upcoming"
    if today > visit.last_day:
        return "past"
    return "under_way"


def local_now(visit: Visit, now: datetime) -> datetime:
    """The clock as the visit's hosts read it."""
    return now.astimezone(ZoneInfo(visit.timezone))


def local_today(visit: Visit, now: datetime) -> date:
    return local_now(visit, now).date()


def _vocabulary(visit: Visit, partnership: Partnership) -> dict[str, int]:
    """The words that name a visit, with their weight: its title, its month and year, and the
    city it was held in, in every language. The host city weighs twice a title word, since
    "torino" names the visit held in Turin more than the one made by Turin's mayor."""
    weights: dict[str, int] = {}
    months = {visit.first_day.month, visit.last_day.month}
    for lang in LANGS:
        for width in ("wide", "abbreviated"):
            names = get_month_names(width, locale=_LOCALES[lang])
            weights.update((fold(names[m]).rstrip("."), 1) for m in months)
        weights.update((w, 1) for w in _WORD.findall(fold(visit.title(lang))))
    weights.update({str(visit.first_day.year): 1, **{f"{m}월": 1 for m in months}})
    host = next(c for c in partnership.cities if c.id == visit.host)
    for lang in LANGS:
        weights.update((w, 2) for w in _WORD.findall(fold(host.name(lang))))
    return weights


_LOCALES = {"en": "en_GB", "it": "it_IT", "ko": "ko_KR"}
