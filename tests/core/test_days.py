"""Reading a day of the visit out of what people type, in all three languages.

Unless a case says otherwise the visit is Monday 26 to Wednesday 28 August 2024 in Seoul and it
is 09:00 on its first morning.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from briefings.days import DayReading, read_day
from briefings.languages import LANGS, Lang
from tests.cli import run_python

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2024, 8, 26, 9, 0, tzinfo=SEOUL)
MON, TUE, WED = DAYS = (date(2024, 8, 26), date(2024, 8, 27), date(2024, 8, 28))
SUNDAY_BEFORE = date(2024, 8, 25)
FRIDAY_AFTER = date(2024, 8, 30)
SUNDAY_AFTER = date(2024, 9, 1)


def read(
    text: str, lang: Lang = "en", now: datetime = NOW, days: tuple[date, ...] = DAYS
) -> date | None:
    return read_day(text, lang, now, days).day


# The language hint only orders ambiguous readings, so every case must read the same under all.
all_langs = pytest.mark.parametrize("lang", LANGS)

CALENDAR_DATES = [
    # ISO and numeric, day first
    ("2024-08-27", TUE),
    ("27/8", TUE),
    ("27/08", TUE),
    ("27.8.", TUE),
    ("27.8", TUE),
    ("27/8/2024", TUE),
    ("27.08.2024", TUE),
    ("27/8?", TUE),
    # English
    ("27 August", TUE),
    ("August 27", TUE),
    ("27 aug", TUE),
    ("27 August 2024", TUE),
    ("  27 AUGUST!  ", TUE),
    ("itinerary for 27 August", TUE),
    ("what's on 28 August?", WED),
    # Italian
    ("27 agosto", TUE),
    ("27 ago", TUE),
    ("27 agosto 2024", TUE),
    ("programma del 27 agosto", TUE),
    ("il giorno 27 agosto", TUE),
    ("martedì 27 agosto", TUE),
    ("28 Agosto?", WED),
    # Korean
    ("8월 27일", TUE),
    ("8월27일", TUE),
    ("2024년 8월 27일", TUE),
    ("8월 27일 일정", TUE),
    ("8월 27일에", TUE),
    ("8월 28일?", WED),
]

WEEKDAYS = [
    # English
    ("tuesday", TUE),
    ("Tuesday?", TUE),
    ("TUE", TUE),
    ("tues", TUE),
    ("what's on tuesday", TUE),
    ("monday", MON),
    ("wed", WED),
    ("Wednesday schedule", WED),
    # Italian, with and without the accent
    ("martedì", TUE),
    ("martedì?", TUE),
    ("Martedi", TUE),
    ("MARTEDÌ", TUE),
    ("mar", TUE),
    ("programma di martedì", TUE),
    ("lunedì", MON),
    ("mercoledi", WED),
    ("mer", WED),
    # Korean
    ("화요일", TUE),
    ("화", TUE),
    ("화요일 일정", TUE),
    ("화요일에 일정 뭐야", TUE),
    ("월요일", MON),
    ("수요일", WED),
    ("수", WED),
]

VISIT_DAYS = [
    # English
    ("day 2", TUE),
    ("day2", TUE),
    ("Day 2?", TUE),
    ("d2", TUE),
    ("D2", TUE),
    ("day two", TUE),
    ("second day", TUE),
    ("2nd day", TUE),
    ("programme for day 2", TUE),
    ("day 1", MON),
    ("first day", MON),
    ("day 3", WED),
    ("last day", WED),
    # Italian
    ("giorno 2", TUE),
    ("2° giorno", TUE),
    ("2º giorno", TUE),
    ("secondo giorno", TUE),
    ("seconda giornata", TUE),
    ("programma del giorno 2", TUE),
    ("primo giorno", MON),
    ("terzo giorno", WED),
    ("ultimo giorno", WED),
    # Korean
    ("2일차", TUE),
    ("2일차 일정", TUE),
    ("둘째 날", TUE),
    ("두 번째 날", TUE),
    ("2번째 날", TUE),
    ("첫날", MON),
    ("첫째 날", MON),
    ("3일차", WED),
    ("셋째 날", WED),
    ("마지막 날", WED),
]

RELATIVE_WORDS = [
    # English
    ("today", MON),
    ("tomorrow", TUE),
    ("yesterday", SUNDAY_BEFORE),
    ("day after tomorrow", WED),
    ("what's on tomorrow?", TUE),
    ("tonight", MON),
    # Italian
    ("oggi", MON),
    ("domani", TUE),
    ("ieri", SUNDAY_BEFORE),
    ("dopodomani", WED),
    ("dopo domani", WED),
    ("programma di domani", TUE),
    ("stasera", MON),
    # Korean
    ("오늘", MON),
    ("내일", TUE),
    ("어제", SUNDAY_BEFORE),
    ("모레", WED),
    ("내일은?", TUE),
    ("내일 일정", TUE),
]


@all_langs
@pytest.mark.parametrize(("text", "expected"), CALENDAR_DATES)
def test_calendar_dates(text: str, lang: Lang, expected: date) -> None:
    assert read(text, lang) == expected


@all_langs
@pytest.mark.parametrize(("text", "expected"), WEEKDAYS)
def test_weekdays_name_the_visit_day(text: str, lang: Lang, expected: date) -> None:
    assert read(text, lang) == expected


@all_langs
@pytest.mark.parametrize(("text", "expected"), VISIT_DAYS)
def test_days_of_the_visit(text: str, lang: Lang, expected: date) -> None:
    assert read(text, lang) == expected


@all_langs
@pytest.mark.parametrize(("text", "expected"), RELATIVE_WORDS)
def test_relative_words(text: str, lang: Lang, expected: date) -> None:
    assert read(text, lang) == expected


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        (datetime(2024, 8, 27, 8, 0, tzinfo=SEOUL), "today", TUE),
        (datetime(2024, 8, 27, 8, 0, tzinfo=SEOUL), "domani", WED),
        (datetime(2024, 8, 27, 8, 0, tzinfo=SEOUL), "ieri", MON),
        (datetime(2024, 8, 27, 8, 0, tzinfo=SEOUL), "모레", date(2024, 8, 29)),
        (datetime(2024, 8, 28, 0, 5, tzinfo=SEOUL), "어제", TUE),
        (datetime(2024, 8, 28, 0, 5, tzinfo=SEOUL), "oggi", WED),
        # Late at night in Seoul is still the same Seoul day, whatever the server's zone.
        (datetime(2024, 8, 26, 23, 59, tzinfo=SEOUL), "today", MON),
        (datetime(2024, 8, 26, 23, 59, tzinfo=SEOUL), "tomorrow", TUE),
        # Across the end of the year.
        (datetime(2024, 12, 31, 23, 30, tzinfo=SEOUL), "tomorrow", date(2025, 1, 1)),
        (datetime(2024, 12, 31, 23, 30, tzinfo=SEOUL), "내일", date(2025, 1, 1)),
        (datetime(2024, 12, 31, 23, 30, tzinfo=SEOUL), "dopodomani", date(2025, 1, 2)),
        (datetime(2025, 1, 1, 10, 0, tzinfo=SEOUL), "yesterday", date(2024, 12, 31)),
    ],
)
def test_relative_words_follow_now(now: datetime, text: str, expected: date) -> None:
    assert read(text, now=now) == expected


@all_langs
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30 agosto", FRIDAY_AFTER),
        ("30 August", FRIDAY_AFTER),
        ("8월 30일", FRIDAY_AFTER),
        ("27 aug 2023", date(2023, 8, 27)),
        ("day 5", FRIDAY_AFTER),
        ("giorno 5", FRIDAY_AFTER),
        ("5일차", FRIDAY_AFTER),
        ("day 0", SUNDAY_BEFORE),
        ("friday", FRIDAY_AFTER),
        ("venerdì", FRIDAY_AFTER),
        ("ven", FRIDAY_AFTER),
        ("금요일", FRIDAY_AFTER),
        ("금", FRIDAY_AFTER),
        ("sunday", SUNDAY_AFTER),
        ("domenica", SUNDAY_AFTER),
        ("일요일", SUNDAY_AFTER),
        ("yesterday", SUNDAY_BEFORE),
    ],
)
def test_days_outside_the_visit_still_read(text: str, lang: Lang, expected: date) -> None:
    reading = read_day(text, lang, NOW, DAYS)
    assert reading == DayReading(expected)
    assert reading.day not in DAYS


@pytest.mark.parametrize(
    ("now", "days", "text", "expected"),
    [
        # The nearest occurrence to now: ahead across New Year, behind within the year.
        (NOW, DAYS, "1 gennaio", date(2025, 1, 1)),
        (NOW, DAYS, "1 March", date(2024, 3, 1)),
        (datetime(2024, 12, 28, 12, 0, tzinfo=SEOUL), (), "3 January", date(2025, 1, 3)),
        (datetime(2025, 1, 2, 12, 0, tzinfo=SEOUL), (), "27 dicembre", date(2024, 12, 27)),
        # The visit's own year wins over the nearest one.
        (NOW, (date(2025, 8, 26), date(2025, 8, 27)), "27 August", date(2025, 8, 27)),
        (NOW, (date(2025, 8, 26), date(2025, 8, 27)), "8월 27일", date(2025, 8, 27)),
        # A written year is kept even next to a visit day with the same month and day.
        (NOW, (date(2025, 8, 26), date(2025, 8, 27)), "27/8/2024", TUE),
    ],
)
def test_dates_without_a_year(
    now: datetime, days: tuple[date, ...], text: str, expected: date
) -> None:
    assert read(text, now=now, days=days) == expected


@pytest.mark.parametrize(
    ("text", "days", "expected"),
    [
        # Not a visit weekday: the next such date from today on, today included.
        ("monday", (TUE, WED), MON),
        ("tuesday", (), TUE),
        ("domenica", (), SUNDAY_AFTER),
        ("월요일", (), MON),
    ],
)
def test_weekdays_outside_the_visit_come_from_today_on(
    text: str, days: tuple[date, ...], expected: date
) -> None:
    assert read(text, days=days) == expected


@pytest.mark.parametrize("text", ["day 2", "secondo giorno", "2일차", "last day"])
def test_visit_days_need_a_visit(text: str) -> None:
    assert read(text, days=()) is None


@all_langs
@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "?!",
        "<b>",
        "<b></b>",
        "hello",
        "what's on",
        "programma",
        "일정",
        "🎉🙂",
        "\x00\x07\x1b",
        # Bare numbers are not guessed at: "27" may be a day of the month, a day of the visit...
        "27",
        "27th",
        "what's on the 27th",
        "il 27",
        "27일",
        "27 일",
        "8 9 10",
        # ...impossible dates...
        "99/99",
        "31/2",
        "0/0",
        # ...and periods or times that are not one day.
        "august",
        "agosto",
        "8월",
        "2024",
        "next week",
        "10:00",
        "d-2",
        "x" * 10_000,
    ],
)
def test_unreadable_text_names_no_day(text: str, lang: Lang) -> None:
    reading = read_day(text, lang, NOW, DAYS)
    assert reading == DayReading(None)


@pytest.mark.parametrize(
    "text",
    [
        "<b>martedì</b>",
        "🎉 tomorrow 🎉",
        "화tuesday",
        "tomorrow " * 2000,
        "day 999999999999",
        "in 99999999999 days",
        "99999999999 days ago",
        "27 august 9999",
        "1/1/1",
        "ｄａｙ　２",
        "\u200b\u202edomani",
    ],
)
def test_odd_text_never_raises(text: str) -> None:
    assert isinstance(read(text), date | None)


@pytest.mark.parametrize(
    ("now", "days"),
    [
        (datetime(9999, 12, 31, 23, 0, tzinfo=SEOUL), (date(9999, 12, 31),)),
        (datetime(1, 1, 1, 12, 0, tzinfo=SEOUL), (date(1, 1, 1),)),
    ],
)
@pytest.mark.parametrize(
    "text", ["tomorrow", "yesterday", "dopodomani", "friday", "day 5", "day 0", "3 january"]
)
def test_edges_of_the_calendar_never_raise(
    now: datetime, days: tuple[date, ...], text: str
) -> None:
    assert isinstance(read(text, now=now, days=days), date | None)


_DAY_WORDS = [
    "day", "giorno", "2", "27", "agosto", "August", "8월", "27일", "/", ".", "-", "tomorrow",
    "domani", "내일", "모레", "martedì", "화", "of", "di", "차", "째", "날", "2024", "?", "<b>",
]  # fmt: skip


@settings(max_examples=200, deadline=None, database=None)
@given(
    text=st.text(max_size=300) | st.lists(st.sampled_from(_DAY_WORDS), max_size=8).map(" ".join),
    lang=st.sampled_from(LANGS),
    now=st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(SEOUL)
    ),
    first=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1)),
    length=st.integers(min_value=0, max_value=10),
)
def test_any_text_reads_without_raising(
    text: str, lang: Lang, now: datetime, first: date, length: int
) -> None:
    days = tuple(first + timedelta(days=n) for n in range(length))
    reading = read_day(text, lang, now, days)
    assert reading.day is None or isinstance(reading.day, date)


def test_importing_reads_no_dateparser() -> None:
    """dateparser is slow to import; the bot must be able to start without it."""
    code = (
        "import sys, briefings.days\n"
        "heavy = {'dateparser', 'telegram', 'slack_sdk', 'apscheduler'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
