"""What could be known at a given hour: plans before an event, outcomes once reported.

A fact is known from the moment one of the articles it cites is: from its publication time where
the page states one, else from the day its own tense shows it was written before, else always
(such an article may state plans, never outcomes: the seed check sees to that). A digest or a
briefing at an hour shows only outcomes and remarks known by then; plans are always known.
"""

from collections.abc import Iterable
from datetime import datetime, time, timedelta, timezone

from briefings.articles import Article
from briefings.dossier import Citation, Event, Quote, Reported

_LAST_TO_START = timezone(timedelta(hours=-12))


def article_known(article: Article, moment: datetime) -> bool:
    if article.published is not None:
        return article.published <= moment
    if article.written_before is not None:
        # Written before that day began wherever it was written: surely there once the day has
        # begun everywhere, the last place being UTC-12.
        return datetime.combine(article.written_before, time(), tzinfo=_LAST_TO_START) <= moment
    # Nothing says when: it cannot report an outcome (the seed check requires a publication
    # time for that), and what else it says is taken as known.
    return True


def cited_known(cites: Iterable[Citation], articles: dict[str, Article], moment: datetime) -> bool:
    return any(article_known(articles[c.article], moment) for c in cites)


def outcomes(event: Event, articles: dict[str, Article], moment: datetime) -> list[Reported]:
    """What came of the event as reported by `moment`."""
    return [r for r in event.reported if cited_known(r.cite, articles, moment)]


def quotes(said: Iterable[Quote], articles: dict[str, Article], moment: datetime) -> list[Quote]:
    return [q for q in said if cited_known(q.cite, articles, moment)]


def known_articles(articles: dict[str, Article], moment: datetime) -> frozenset[str]:
    """The ids of the articles known at `moment`: what a reply at that hour may draw on."""
    return frozenset(a.id for a in articles.values() if article_known(a, moment))


def known_from(cites: Iterable[Citation], known: frozenset[str]) -> bool:
    return any(c.article in known for c in cites)
