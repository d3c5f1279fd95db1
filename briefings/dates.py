"""How each language writes a date, a span of days and a month, through Babel's locale data.

Korean follows the briefing convention (`2024. 8. 27.(화)`, spans as `2024. 8. 26.(월)~28.(수)`);
English writes day-month-year as both cities' staff do; Italian as Babel's it_IT.
"""

from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_skeleton, get_day_names

from briefings.dossier import Visit, span_of
from briefings.labels import label
from briefings.languages import Lang

LOCALES: Final[dict[Lang, str]] = {"en": "en_GB", "it": "it_IT", "ko": "ko_KR"}
# English in the day-month-year order both cities' staff write; Babel's en_GB adds a comma.
_FULL: Final[dict[Lang, str]] = {"en": "EEEE d MMMM y", "it": "full", "ko": "full"}
_WHEN: Final[dict[Lang, str]] = {
    "en": "EEE d MMM y, HH:mm",
    "it": "EEE d MMM y, HH:mm",
    "ko": "y. M. d.(E) HH:mm",
}


def warm() -> None:
    """Read now each language's locale data from Babel's files, which the first date written
    in that language would otherwise read (a serving process calls this before its first
    update)."""
    for lang in LOCALES:
        format_short_day(date(2024, 8, 27), lang)
        format_day(date(2024, 8, 27), lang)


def format_day(day: date, lang: Lang) -> str:
    """A day in full: `Tuesday 27 August 2024`, `martedì 27 agosto 2024`, `2024. 8. 27.(화)`."""
    if lang == "ko":
        return korean_day(day)
    return format_date(day, _FULL[lang], locale=LOCALES[lang])


def format_short_day(day: date, lang: Lang) -> str:
    """For a button: `Tue 27 Aug`, `mar 27 ago`, `27일(화)`."""
    if lang == "ko":
        return f"{day.day}일({_ko_weekday(day)})"
    return format_skeleton("MMMEd", day, locale=LOCALES[lang])


def korean_day(day: date) -> str:
    return f"{day.year}. {day.month}. {day.day}.({_ko_weekday(day)})"


def _ko_weekday(day: date) -> str:
    return str(get_day_names("abbreviated", locale=LOCALES["ko"])[day.weekday()])


def format_span(start: date, end: date, lang: Lang) -> str:
    """`26–28 August 2024`; across months `30 August – 2 September 2024`."""
    if start == end:
        return format_day(start, lang)
    if lang == "ko":
        tail = (
            f"{end.day}.({_ko_weekday(end)})"
            if (start.year, start.month) == (end.year, end.month)
            else korean_day(end).removeprefix(f"{end.year}. " if start.year == end.year else "")
        )
        return f"{korean_day(start)}~{tail}"
    month_year = format_skeleton("yMMMM", end, locale=LOCALES[lang])
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {month_year}"
    first = format_skeleton(
        "MMMMd" if start.year == end.year else "yMMMMd", start, locale=LOCALES[lang]
    )
    return f"{first} – {format_skeleton('yMMMMd', end, locale=LOCALES[lang])}"


def format_month(day: date, lang: Lang) -> str:
    """`April 2024`, `aprile 2024`, `2024. 4.`"""
    if lang == "ko":
        return f"{day.year}. {day.month}."
    return format_skeleton("yMMMM", day, locale=LOCALES[lang])


def format_visit_dates(visit: Visit, lang: Lang) -> str:
    """The visit's days as a span, or its month with the note that its days are not stated."""
    if visit.start is not None and visit.end is not None:
        return format_span(visit.start, visit.end, lang)
    return label("month_days_not_stated", lang, month=format_month(visit.first_day, lang))


def format_partial_date(when: str, lang: Lang) -> str:
    """A `YYYY-MM` as a month, a `YYYY-MM-DD` as a day: never more precise than given."""
    first, _ = span_of(when)
    return format_month(first, lang) if len(when) == len("YYYY-MM") else format_day(first, lang)


def format_moment(moment: datetime, timezone: str, lang: Lang) -> str:
    """A digest's time in the subscriber's zone: `Sun 25 Aug 2024, 07:30`."""
    zone = ZoneInfo(timezone)
    return format_datetime(moment.astimezone(zone), _WHEN[lang], tzinfo=zone, locale=LOCALES[lang])


def format_published(day: date, lang: Lang) -> str:
    if lang == "ko":
        return korean_day(day)
    return format_date(day, "medium", locale=LOCALES[lang])
