"""What could be known at a given hour: plans before an event, outcomes once reported.

A fact is known from the moment one of the articles it cites is: from its publication time where
the page states one, else always (such an article may state plans, never outcomes: the seed check
sees to that). A digest or a
briefing at an hour shows only outcomes and remarks known by then; plans are always known.
"""

from collections.abc import Iterable
from datetime import datetime

from briefings.articles import Article
from briefings.dossier import Citation, Event, Quote, Reported


def article_known(article: Article, moment: datetime) -> bool:
    """An article with a publication time is known from then. One without (the Italian preview,
    written before the visit: `written_before`) cannot report an outcome — the seed check
    requires a publication time for that — so what it says (plans, remarks made beforehand)
    is taken as known at any hour."""
    if article.published is not None:
        return article.published <= moment
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
