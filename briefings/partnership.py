"""The partnership above its visits: two cities, the agreement that binds them, what happened
between them and what is still to come of it.

A visit is one episode; the relationship is what a partnership office follows across them, so it
lives in its own file (`seeds/partnerships/<id>.yaml`) that visits name by id. Every fact cites
its source sentence, as in a visit dossier, and the loader checks it the same way.
"""

from typing import Literal

from pydantic import Field

from briefings.dossier import AgreementName, Fact, Frozen, Month, MonthOrDay, Statement, Text

FollowUpStatus = Literal["proposed", "under_consideration", "pledged", "done"]


class City(Fact):
    id: str = Field(min_length=1)
    name: Text


class Agreement(Fact):
    # Month precision: neither source gives the day of signing.
    signed: Month
    place: Text
    occasion: Text
    # One agreement, named differently by each source (and twice by one): not a disagreement.
    names: tuple[AgreementName, ...] = Field(min_length=1)
    # How the bot calls it in running text, in each language: one of the names above, rendered.
    title: Text


class TimelineEntry(Fact):
    when: MonthOrDay
    text: Text
    visit: str | None = None


class FollowUp(Fact):
    """Something a visit set in motion; its status is what the sources last said of it."""

    id: str = Field(min_length=1)
    text: Text
    # A few words for the one-screen briefing; `text` says it in full.
    label: Text
    status: FollowUpStatus
    visit: str | None = None


class Partnership(Frozen):
    id: str = Field(min_length=1)
    title: Text
    cities: tuple[City, City]
    agreement: Agreement
    context: tuple[Statement, ...] = ()
    # In chronological order (checked by the loader).
    timeline: tuple[TimelineEntry, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    articles: tuple[str, ...] = Field(min_length=1)

    def follow_up(self, follow_up_id: str) -> FollowUp:
        return next(f for f in self.follow_ups if f.id == follow_up_id)
