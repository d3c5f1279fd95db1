"""Reading which day of an official visit a user means, in English, Italian or Korean.

Calendar dates, weekdays and words such as "tomorrow" are left to `dateparser` and Babel, which
know the three languages far better than a hand-written table would. Only the forms that name a
day *of the visit* ("day 2", "2° giorno", "2일차") and the glue around them are our own.

Choices worth knowing before changing anything here:

* A bare number ("27", "the 27th", "27일") is rejected rather than guessed at: in a chat about a
  three-day visit it is as likely to mean "day 27" or "27 days" as "the 27th", and asking again
  is cheaper than briefing someone about the wrong day.
* An abbreviated weekday ("tue", "mar", "화") counts only when it is all the user typed, because
  the same letters are ordinary words inside a sentence ("the sun", "il mar", 화 = anger).
* A date without a year belongs to the visit when a visit day has that month and day; otherwise
  it is the occurrence nearest to `now`, so "3 January" typed in late December means next week.
* `dateparser` is imported on first use: it takes a noticeable time to import and the bot should
  start answering before anyone has asked about a day.
"""

import contextlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Final, Literal

from babel.dates import get_day_names, get_month_names

from briefings.folding import fold
from briefings.languages import LANGS, Lang

if TYPE_CHECKING:
    from dateparser.date import DateDataParser

# Enough for any way of writing a day plus a few filler words; cutting before the cleaning keeps
# a pasted 10,000-character message as cheap as a short one.
_RAW_LIMIT: Final = 256
_CLEAN_LIMIT: Final = 64
# Phrases tried are at most this many words long, among at most this many words: every day form
# we know fits in four words, and the bound keeps an unreadable sentence to a few dozen attempts.
_MAX_TOKENS: Final = 10
_MAX_WINDOW: Final = 4
# Three digits keep "day N" arithmetic far from date.max and still cover any real visit.
_MAX_DAY_DIGITS: Final = 3

_TAG: Final = re.compile(r"<[^<>]{0,40}>|&#?\w{1,8};")
_APOSTROPHES: Final = str.maketrans({"’": "'", "‘": "'", "`": "'", "ʼ": "'", "′": "'"})
# Kept because dates and words need them: 27/8, 27.8., 2024-08-27, what's, l'altro, 2° giorno.
_KEPT_PUNCTUATION: Final = frozenset("/.-'°")
_EDGE_PUNCTUATION: Final = "/.-'"

# Words that carry no day in "what's on tuesday", "programma di martedì", "화요일 일정".
# Stored folded (lower case, no accents), as the input is compared after folding.
_FILLERS: Final = frozenset(
    {
        # English
        "what", "what's", "whats", "is", "are", "on", "for", "the", "of", "at", "a", "an", "me",
        "show", "tell", "please", "pls", "schedule", "agenda", "itinerary", "programme",
        "program", "plan", "plans", "events", "event", "happening", "there", "anything", "and",
        "about", "our", "my", "briefing",
        # Italian ("ora" is also "hour", which dateparser would read as "now")
        "cosa", "che", "c'e", "ce", "e", "di", "del", "dello", "della", "dei", "degli", "delle",
        "il", "lo", "la", "le", "i", "gli", "l'", "per", "su", "al", "ai", "alla", "programma",
        "impegni", "ora", "mostra", "mostrami", "fammi", "vedere", "qual", "quale", "quali",
        "previsto", "succede", "giorno", "giornata",
        # Korean
        "일정", "스케줄", "계획", "프로그램", "뭐", "뭐야", "뭐예요", "뭐가", "무엇", "알려줘",
        "알려주세요", "보여줘", "보여주세요", "있어", "있어요", "있나요", "좀", "의",
    }
)  # fmt: skip

# Korean particles glued to the day word: "화요일에", "내일은", "27일에는".
_KO_PARTICLES: Final = (
    "에서는", "에는", "에서", "부터", "까지", "에", "은", "는", "의", "엔", "도",
)  # fmt: skip

# Relative days that dateparser does not know in our languages.
_RELATIVE_DAYS: Final[dict[str, int]] = {
    "dopodomani": 2,
    "dopo domani": 2,
    "altroieri": -2,
    "l'altroieri": -2,
    "l'altro ieri": -2,
    "ieri l'altro": -2,
    "stasera": 0,
    "stamattina": 0,
    "stanotte": 0,
    "domattina": 1,
    "모레": 2,
    "내일모레": 2,
    "내일 모레": 2,
    "글피": 3,
    "그제": -2,
    "그저께": -2,
    "오늘밤": 0,
    "오늘 밤": 0,
}

# Spellings people use that CLDR does not list.
_EXTRA_WEEKDAY_ABBREVIATIONS: Final[dict[str, int]] = {"tues": 1, "weds": 2, "thur": 3, "thurs": 3}

# Numbers with nothing to say which is the day and which the month: see the module docstring.
_BARE_NUMBERS: Final = re.compile(r"\d+(?:\s+\d+)*\s*(?:st|nd|rd|th|°|o|일)?")
_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")

_EN_ORDINALS: Final = {
    w: n
    for n, w in enumerate(
        ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"),
        start=1,
    )
} | {"tenth": 10}
_EN_CARDINALS: Final = {
    w: n
    for n, w in enumerate(
        ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"), start=1
    )
}
# Stems: primo/prima, secondo/seconda, ... so both "giorno" and "giornata" agree with them.
_IT_ORDINALS: Final = {
    w: n
    for n, w in enumerate(
        ("prim", "second", "terz", "quart", "quint", "sest", "settim", "ottav", "non", "decim"),
        start=1,
    )
}
_KO_ORDINALS: Final = {
    "첫": 1, "둘": 2, "두": 2, "셋": 3, "세": 3, "넷": 4, "네": 4, "다섯": 5, "여섯": 6,
    "일곱": 7, "여덟": 8, "아홉": 9, "열": 10,
}  # fmt: skip

_Last = Literal["last"]


@dataclass(frozen=True, slots=True)
class DayReading:
    """What a day reference was understood as."""

    day: date | None
    """The calendar date understood; None when the text names no day."""


def read_day(text: str, lang: Lang, now: datetime, days: Sequence[date]) -> DayReading:
    """Understand `text` as a day, or as no day at all; never raises, whatever was typed.

    `now` is timezone-aware and already converted to the visit's time zone by the caller; `days`
    are the visit days in order. `lang` only decides which language wins when a text reads
    differently in two of them: all three are always understood.
    """
    return DayReading(_Reader(lang, now, tuple(days)).read(text))


class _Reader:
    """One reading: holds what every attempt on the phrases of a message shares."""

    def __init__(self, lang: Lang, now: datetime, days: tuple[date, ...]) -> None:
        self._lang = lang
        # dateparser compares with a naive base; `now` is already in the visit's zone.
        self._base = now.replace(tzinfo=None)
        self._today = self._base.date()
        self._days = days
        self._parsers: tuple[DateDataParser, DateDataParser] | None = None

    def read(self, text: str) -> date | None:
        clean = _clean(text)
        if not clean:
            return None
        number = _visit_day_number(clean)
        if number is not None:
            return self._visit_day(number)
        tokens = [t for t in map(_strip_token, clean.split()) if t and t not in _FILLERS]
        tokens = tokens[:_MAX_TOKENS]
        if not tokens:
            return None
        if len(tokens) == 1 and (weekday := _weekday_abbreviations().get(tokens[0])) is not None:
            return self._weekday(weekday)
        for phrase in _phrases(tokens):
            found = self._read_phrase(phrase)
            if found is not None:
                return found
        return None

    def _read_phrase(self, phrase: str) -> date | None:
        weekday = _weekday_names().get(phrase)
        if weekday is not None:
            return self._weekday(weekday)
        offset = _RELATIVE_DAYS.get(phrase)
        if offset is not None:
            return self._shift(self._today, offset)
        if _BARE_NUMBERS.fullmatch(phrase):
            return None
        if _ISO_DATE.fullmatch(phrase):
            # The commonest machine-written form (our own buttons send it): no need for dateparser.
            with contextlib.suppress(ValueError):
                return date.fromisoformat(phrase)
        return self._dateparser(phrase)

    def _visit_day(self, number: int | _Last) -> date | None:
        if not self._days:
            return None
        if number == "last":
            return self._days[-1]
        # Past the end still gives a date, so the caller can say it is outside the visit.
        return self._shift(self._days[0], number - 1)

    def _weekday(self, weekday: int) -> date | None:
        for day in self._days:
            if day.weekday() == weekday:
                return day
        return self._shift(self._today, (weekday - self._today.weekday()) % 7)

    def _dateparser(self, phrase: str) -> date | None:
        day_month, full = self._dateparsers()
        try:
            found = day_month.get_date_data(phrase)
            if found.date_obj is None or found.period != "day":
                return None  # month, year, week or time of day: not a day
            with_year = full.get_date_data(phrase)
        except Exception:  # dateparser raises assorted errors on odd text
            return None
        if with_year.date_obj is not None:
            # The text had a year, or was relative ("tomorrow", "내일"): take it as read.
            return with_year.date_obj.date()
        return self._place_in_year(found.date_obj.month, found.date_obj.day)

    def _dateparsers(self) -> "tuple[DateDataParser, DateDataParser]":
        """Build once per message: one accepting year-less dates, one requiring a year.

        Asking twice is how we learn whether the user wrote a year, which dateparser otherwise
        fills in silently from the base date.
        """
        if self._parsers is None:
            from dateparser.date import DateDataParser

            languages: list[str] = [self._lang, *(lang for lang in LANGS if lang != self._lang)]
            settings: dict[str, object] = {
                "RELATIVE_BASE": self._base,
                "DATE_ORDER": "DMY",
                "PREFER_DATES_FROM": "current_period",
                "RETURN_AS_TIMEZONE_AWARE": False,
                "REQUIRE_PARTS": ["day", "month"],
            }
            with_year = settings | {"REQUIRE_PARTS": ["day", "month", "year"]}
            self._parsers = (
                DateDataParser(languages=languages, use_given_order=True, settings=settings),
                DateDataParser(languages=languages, use_given_order=True, settings=with_year),
            )
        return self._parsers

    def _place_in_year(self, month: int, day: int) -> date | None:
        for visit_day in self._days:
            if (visit_day.month, visit_day.day) == (month, day):
                return visit_day
        candidates: list[date] = []
        for year in (self._today.year - 1, self._today.year, self._today.year + 1):
            try:
                candidates.append(date(year, month, day))
            except ValueError:  # 29 February, or beyond date.min/date.max
                continue
        if not candidates:
            return None
        # On an exact tie the coming date wins: people ask about what is ahead.
        return min(candidates, key=lambda c: (abs((c - self._today).days), c < self._today))

    @staticmethod
    def _shift(start: date, days: int) -> date | None:
        try:
            return start + timedelta(days=days)
        except OverflowError:
            return None


def _clean(text: str) -> str:
    """Fold case and accents, keep letters, digits and date punctuation, cap the length."""
    text = _TAG.sub(" ", text[:_RAW_LIMIT])
    text = fold(text.translate(_APOSTROPHES))
    kept = "".join(ch if ch.isalnum() or ch in _KEPT_PUNCTUATION else " " for ch in text)
    return " ".join(kept.split())[:_CLEAN_LIMIT].strip()


def _strip_token(token: str) -> str:
    token = token.strip(_EDGE_PUNCTUATION)
    for particle in _KO_PARTICLES:
        # Two syllables at least must stay: "일은" is a word ("the work"), not Sunday.
        if token.endswith(particle) and len(token) - len(particle) >= 2:
            return token[: -len(particle)]
    return token


def _phrases(tokens: list[str]) -> Iterator[str]:
    """The whole text first, then shorter runs of words, longest and leftmost first."""
    yield " ".join(tokens)
    for size in range(min(len(tokens) - 1, _MAX_WINDOW), 0, -1):
        for start in range(len(tokens) - size + 1):
            yield " ".join(tokens[start : start + size])


def _visit_day_number(clean: str) -> int | _Last | None:
    """The N of "day N" in any of its spellings, "last" for the last day, else None."""
    for pattern in _visit_day_patterns():
        match = pattern.search(clean)
        if match is None:
            continue
        word = match.group(1)
        if word.isdigit():
            return int(word)
        if word in {"last", "ultim", "마지막"}:
            return "last"
        for table in (_EN_ORDINALS, _EN_CARDINALS, _IT_ORDINALS, _KO_ORDINALS):
            if word in table:
                return table[word]
    return None


def warm() -> None:
    """Build now what reading a day builds on its first use: the spellings of "day N" and the
    month and weekday names of every language, from Babel's locale data (a serving process
    calls this before its first update, which would otherwise wait for all of it)."""
    _visit_day_patterns()
    _weekday_abbreviations()


@cache
def _visit_day_patterns() -> tuple[re.Pattern[str], ...]:
    n = rf"(\d{{1,{_MAX_DAY_DIGITS}}})(?!\d)"
    # "day 27 August" and "giorno 27/8" are dates, not the 27th day of the visit.
    not_a_date = rf"(?!\s*[./-]\s*\d)(?!\s*(?:of\s+|di\s+)?(?:{_month_pattern()})\b)"
    en_ord = "|".join([*_EN_ORDINALS, "last"])
    en_card = "|".join(_EN_CARDINALS)
    it_ord = "|".join([*_IT_ORDINALS, "ultim"])
    ko_ord = "|".join(sorted(_KO_ORDINALS, key=len, reverse=True))
    sources = (
        rf"(?<!\w)day\s*{n}{not_a_date}",
        rf"(?<!\w)giorn(?:o|ata)\s*{n}{not_a_date}",
        rf"\bd{n}\b",
        rf"(?<!\d){n}\s*(?:st|nd|rd|th)\s+day\b",
        rf"\b({en_ord})\s+day\b",
        rf"\bday\s+({en_card})\b",
        rf"(?<!\d){n}\s*[°oa]\s*giorn(?:o|ata)\b",
        rf"\b({it_ord})[oa]\s+giorn(?:o|ata)\b",
        rf"(?<!\d){n}\s*일\s*(?:차|째)",
        rf"(?<!\d){n}\s*(?:번\s*)?째\s*날",
        rf"(?<![가-힣])({ko_ord})\s*(?:번\s*)?째\s*날",
        r"(?<![가-힣])(첫)\s*날",
        r"(?<![가-힣])(마지막)\s*날",
    )
    return tuple(re.compile(source) for source in sources)


@cache
def _month_pattern() -> str:
    names = {
        fold(name)
        for lang in LANGS
        for width in ("wide", "abbreviated")
        for name in get_month_names(width, locale=lang).values()
    }
    return "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))


@cache
def _weekday_names() -> dict[str, int]:
    """Full weekday names, Monday = 0 as in `date.weekday()`."""
    return {
        fold(name): weekday
        for lang in LANGS
        for weekday, name in get_day_names("wide", locale=lang).items()
    }


@cache
def _weekday_abbreviations() -> dict[str, int]:
    """Abbreviated and full names: "tue", "mar", "화", and "tuesday" too."""
    abbreviations = {
        fold(name): weekday
        for lang in LANGS
        for weekday, name in get_day_names("abbreviated", locale=lang).items()
    }
    return abbreviations | _EXTRA_WEEKDAY_ABBREVIATIONS | _weekday_names()
