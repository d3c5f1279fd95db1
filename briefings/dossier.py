"""The visit dossier: structured facts, each citing the article sentence it comes from.

Models are frozen and reject unknown fields, so a typo in a seed file is an error rather than a
silently ignored key.
"""

from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from briefings.languages import Lang


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


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


class Person(Fact):
    id: str
    names: tuple[Name, ...] = Field(min_length=1)
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


class Partnership(Fact):
    signed: Text
    names: tuple[AgreementName, ...] = Field(min_length=1)
    context: tuple[Statement, ...] = ()


PartOfDay = Literal["morning", "early_afternoon", "afternoon", "evening"]


class Event(Fact):
    id: str
    date: date | None
    # Stated only where the sources give it; `None` renders as "time not stated".
    part_of_day: PartOfDay | None = None
    when_note: Text | None = None
    title: Text
    place: str | None = None
    people: tuple[str, ...] = ()
    details: Text | None = None


class Quote(Fact):
    id: str
    speaker: str | None
    lang: Lang
    # Segments interrupted in the source ("– afferma X –") are joined with " […] ".
    original: str
    translations: dict[Lang, str]
    context: Text

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
    kind: Literal["disagreement", "silence", "spelling"]
    text: Text


class Visit(Frozen):
    id: str
    timezone: str
    start: date
    end: date
    dates_cite: Cites = Field(min_length=1)
    title: Text
    purpose: Statement
    partnership: Partnership
    people: tuple[Person, ...]
    places: tuple[Place, ...]
    programme: tuple[Event, ...]
    quotes: tuple[Quote, ...]
    background: tuple[Statement, ...]
    open_questions: tuple[Statement, ...]
    source_notes: tuple[SourceNote, ...]
    articles: tuple[str, ...] = Field(min_length=1)

    @property
    def days(self) -> tuple[date, ...]:
        count = (self.end - self.start).days + 1
        return tuple(self.start + timedelta(days=n) for n in range(count))

    def person(self, person_id: str) -> Person:
        return next(p for p in self.people if p.id == person_id)

    def place(self, place_id: str) -> Place:
        return next(p for p in self.places if p.id == place_id)

    def events_on(self, day: date) -> tuple[Event, ...]:
        return tuple(e for e in self.programme if e.date == day)

    @property
    def undated_events(self) -> tuple[Event, ...]:
        return tuple(e for e in self.programme if e.date is None)
