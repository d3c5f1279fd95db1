"""The visit dossier: structured facts, each citing the article sentence it comes from.

Models are frozen and reject unknown fields, so a typo in a seed file is an error rather than a
silently ignored key.
"""

import calendar
import re
from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from briefings.languages import Lang

_MONTH = re.compile(r"\A[0-9]{4}-(0[1-9]|1[0-2])\Z")


def _as_text(value: object) -> object:
    """YAML reads an unquoted 2024-04-05 as a date; the model keeps it as written."""
    return value.isoformat() if isinstance(value, date) else value


def _check_month(value: str) -> str:
    if not _MONTH.match(value):
        raise ValueError("a month is written YYYY-MM")
    return value


def _check_when(value: str) -> str:
    if _MONTH.match(value):
        return value
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError("a date is written YYYY-MM (month) or YYYY-MM-DD (day)") from None
    if len(value) != len("YYYY-MM-DD"):
        raise ValueError("a date is written YYYY-MM (month) or YYYY-MM-DD (day)")
    return value


# The sources often give only the month ("nello scorso mese di aprile", "지난 4월"): a date is
# as precise as they are, never padded with an invented day.
Month = Annotated[str, BeforeValidator(_as_text), AfterValidator(_check_month)]
MonthOrDay = Annotated[str, BeforeValidator(_as_text), AfterValidator(_check_when)]


def span_of(when: str) -> tuple[date, date]:
    """The first and last day that a `YYYY-MM` or `YYYY-MM-DD` covers."""
    if _MONTH.match(when):
        year, month = (int(part) for part in when.split("-"))
        last = calendar.monthrange(year, month)[1]
        return date(year, month, 1), date(year, month, last)
    day = date.fromisoformat(when)
    return day, day


class Frozen(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, defer_build=True
    )


class Text(Frozen):
    """A user-visible text in each of our languages; none may be missing or empty."""

    en: str = Field(min_length=1)
    it: str = Field(min_length=1)
    ko: str = Field(min_length=1)

    def __call__(self, lang: Lang) -> str:
        return str(getattr(self, lang))


class Citation(Frozen):
    """An exact quote (whitespace aside) from one article."""

    article: str = Field(min_length=1)
    quote: str = Field(min_length=1)


Cites = tuple[Citation, ...]


class Fact(Frozen):
    """Anything the bot states: it must name at least one source sentence."""

    cite: Cites = Field(min_length=1)


class Statement(Fact):
    text: Text


class Name(Frozen):
    """A name as one source writes it."""

    text: str = Field(min_length=1)
    script: Literal["latin", "hangul"]
    article: str


class NameVariant(Frozen):
    """A spelling no source uses but people will type: a likely correction of a source's
    spelling ("Emilia" for "Emila") or an established form. Shown as such, never as a fact."""

    text: str = Field(min_length=1)
    note: Text


class Person(Fact):
    id: str
    names: tuple[Name, ...] = Field(min_length=1)
    variants: tuple[NameVariant, ...] = ()
    # A counterpart the one-screen briefing names (an editorial choice, made here).
    key: bool = False
    side: Literal["delegation", "host", "other"]
    role: Text
    organisation: Text | None = None


class Place(Fact):
    id: str
    name: Text


class AgreementName(Fact):
    name: str
    lang: Lang
    gloss: Text


PartOfDay = Literal["morning", "early_afternoon", "afternoon", "evening"]


class Reported(Fact):
    """What a source reported after the event: an outcome. Known only from the publication time
    of the article that reports it (every cited article must state one)."""

    text: Text
    # Among what the one-screen briefing says came of the visit (an editorial choice).
    key: bool = False


class Event(Fact):
    """An item of the programme. `details` is what was known beforehand (the plan, what the place
    is); `reported` is what came of it, kept apart so a digest never tells an outcome before it
    was reported."""

    id: str
    date: date | None
    # Stated only where the sources give it; `None` renders as "time not stated".
    part_of_day: PartOfDay | None = None
    when_note: Text | None = None
    title: Text
    place: str | None = None
    people: tuple[str, ...] = ()
    details: Text | None = None
    reported: tuple[Reported, ...] = ()
    # On the one-screen briefing (an editorial choice, made here).
    key: bool = False


class Quote(Fact):
    id: str
    speaker: str | None
    lang: Lang
    # Segments interrupted in the source ("– afferma X –") are joined with " […] ".
    original: str
    translations: dict[Lang, str]
    context: Text
    # Said at (or about) this programme item, where the sources tie it to one.
    event: str | None = None
    # Among the key quotes of a recap (an editorial choice, made here).
    key: bool = False

    @field_validator("translations")
    @classmethod
    def _translations_are_the_other_languages(cls, value: dict[Lang, str]) -> dict[Lang, str]:
        empty = [lang for lang, text in value.items() if not text.strip()]
        if empty:
            raise ValueError(f"empty translation for {', '.join(empty)}")
        return value

    def text(self, lang: Lang) -> str:
        return self.original if lang == self.lang else self.translations[lang]


class SourceNote(Fact):
    # silence: one source is silent where the other speaks; not_stated: every source is.
    kind: Literal["disagreement", "silence", "not_stated", "spelling"]
    text: Text


class Summary(Frozen):
    """What the one-screen briefing says beyond the programme, chosen by an editor: two or three
    talking points and the one line on what is not known."""

    points: tuple[Statement, ...] = Field(min_length=2, max_length=3)
    unknown: Statement


class Visit(Frozen):
    """One visit of a partnership, dated by its days or, where the sources give no days, by the
    month alone (`start`/`end` or `month`, never both)."""

    id: str
    partnership: str = Field(min_length=1)
    # The partnership city that receives the visit (a city id of the partnership).
    host: str = Field(min_length=1)
    timezone: str
    start: date | None = None
    end: date | None = None
    # Declared after start/end so that its validator sees them.
    month: Month | None = Field(default=None, validate_default=True)
    dates_cite: Cites = Field(min_length=1)
    title: Text
    purpose: Statement
    people: tuple[Person, ...]
    places: tuple[Place, ...]
    programme: tuple[Event, ...]
    quotes: tuple[Quote, ...]
    background: tuple[Statement, ...]
    open_questions: tuple[Statement, ...]
    source_notes: tuple[SourceNote, ...]
    articles: tuple[str, ...] = Field(min_length=1)
    summary: Summary | None = None

    @field_validator("month")
    @classmethod
    def _one_form_of_dates(cls, month: str | None, info: ValidationInfo) -> str | None:
        start, end = info.data.get("start"), info.data.get("end")
        if month is not None and (start is not None or end is not None):
            raise ValueError("give either start and end (the days) or month, not both")
        if month is None and (start is None or end is None):
            raise ValueError("give start and end (the days), or month (YYYY-MM) if no day is known")
        return month

    @property
    def dated(self) -> bool:
        """Whether the sources give the visit's days (else only its month is known)."""
        return self.start is not None

    @property
    def days(self) -> tuple[date, ...]:
        """The visit's days; empty when the sources give only the month."""
        if self.start is None or self.end is None:
            return ()
        count = (self.end - self.start).days + 1
        return tuple(self.start + timedelta(days=n) for n in range(count))

    @property
    def first_day(self) -> date:
        return self._span()[0]

    @property
    def last_day(self) -> date:
        return self._span()[1]

    def _span(self) -> tuple[date, date]:
        if self.start is not None and self.end is not None:
            return self.start, self.end
        if self.month is not None:
            return span_of(self.month)
        # Unreachable through validation; a hand-made `model_construct` could get here.
        raise ValueError(f"visit {self.id!r} has neither days nor a month")

    def person(self, person_id: str) -> Person:
        return next(p for p in self.people if p.id == person_id)

    def place(self, place_id: str) -> Place:
        return next(p for p in self.places if p.id == place_id)

    def events_on(self, day: date) -> tuple[Event, ...]:
        return tuple(e for e in self.programme if e.date == day)

    @property
    def undated_events(self) -> tuple[Event, ...]:
        return tuple(e for e in self.programme if e.date is None)
