"""Dialogue tests of the command table: what a user types, what the bot answers (plain text)."""

from datetime import date, datetime

import pytest

from briefings.actions import Action
from briefings.commands import COMMANDS, SetLang
from briefings.languages import Lang
from briefings.library import Library
from briefings.rendering.renderer import Renderer

from ..conftest import DURING, SEOUL
from .talk import AUGUST, outcome, plain

BEFORE = datetime(2024, 8, 20, 12, 0, tzinfo=SEOUL)
AFTER = datetime(2024, 9, 2, 12, 0, tzinfo=SEOUL)
MONDAY_EVENING = datetime(2024, 8, 26, 22, 0, tzinfo=SEOUL)

TUESDAY = {
    "en": "Tuesday 27 August 2024",
    "it": "martedì 27 agosto 2024",
    "ko": "2024. 8. 27.(화)",
}
MONDAY = {
    "en": "Monday 26 August 2024",
    "it": "lunedì 26 agosto 2024",
    "ko": "2024. 8. 26.(월)",
}
WEDNESDAY = {
    "en": "Wednesday 28 August 2024",
    "it": "mercoledì 28 agosto 2024",
    "ko": "2024. 8. 28.(수)",
}


def say(
    library: Library,
    renderer: Renderer,
    text: str,
    lang: Lang = "en",
    now: datetime = DURING,
    private: bool = True,
) -> str:
    return plain(renderer, outcome(library, text, lang, now, private=private))


DIALOGUE = [
    # (lang, now, what the user types, what the answer must contain, what it must not)
    ("en", DURING, "/itinerary tuesday", [TUESDAY["en"], "Cemetery", "Mobility Forum"], []),
    ("it", DURING, "/itinerary martedì", [TUESDAY["it"], "Cimitero", "Gwangju Global Motors"], []),
    ("it", DURING, "/itinerary martedi", [TUESDAY["it"]], []),
    ("ko", DURING, "/itinerary 8월 27일", [TUESDAY["ko"], "강기정"], []),
    ("ko", DURING, "/itinerary 화요일", [TUESDAY["ko"]], []),
    ("en", DURING, "/itinerary day 2", [TUESDAY["en"], "Day 2 of 3"], []),
    ("it", DURING, "/itinerary giorno 1", [MONDAY["it"], "Mattina", "Park Seon-cheol"], []),
    ("ko", DURING, "/itinerary 3일차", [WEDNESDAY["ko"], "이날 일정: 출처 기사에 없음"], []),
    ("en", DURING, "/itinerary 2024-08-26", [MONDAY["en"], "AI Data Center", "Afternoon"], []),
    ("en", DURING, "/itinerary 27/8", [TUESDAY["en"]], []),
    ("it", DURING, "/itinerary 27 agosto", [TUESDAY["it"]], []),
    ("en", DURING, "/itinerary tomorrow", [WEDNESDAY["en"]], []),
    ("it", DURING, "/itinerary ieri", [MONDAY["it"]], []),
    ("en", DURING, "/itinerary", [TUESDAY["en"]], []),
    ("en", BEFORE, "/itinerary", ["The visit's days:", MONDAY["en"], "/itinerary day 2"], []),
    # Unreadable or outside the visit: the days, with an example, in the user's language.
    ("en", DURING, "/itinerary someday", ["couldn't read “someday”", MONDAY["en"]], []),
    ("it", DURING, "/itinerary boh", ["«boh» non è riconoscibile", "I giorni della visita"], []),
    ("ko", DURING, "/itinerary 8월 30일", ["방문 기간 아님", "예: /itinerary 화요일"], []),
    ("en", DURING, "/itinerary day 7", ["is not a day of the visit", WEDNESDAY["en"]], []),
    # The clock.
    ("en", DURING, "/today", [TUESDAY["en"]], []),
    ("en", MONDAY_EVENING, "/today", [MONDAY["en"]], []),
    ("en", MONDAY_EVENING, "/tomorrow", [TUESDAY["en"]], []),
    ("en", MONDAY_EVENING, "/next", [TUESDAY["en"]], []),
    ("en", BEFORE, "/next", [MONDAY["en"]], []),
    ("en", DURING, "/next", [WEDNESDAY["en"]], []),
    ("en", AFTER, "/next", ["The visit is over", "The visit's days:"], []),
    ("it", BEFORE, "/today", ["Oggi, martedì 20 agosto 2024, non è un giorno della visita"], []),
    ("ko", AFTER, "/tomorrow", ["내일(", "): 방문 기간 아님"], []),
    # People.
    ("en", DURING, "/who kang", ["Kang Gijung / 강기정", "Mayor of Gwangju"], ["Lo Russo /"]),
    ("en", DURING, "/who KANG", ["Kang Gijung / 강기정"], []),
    ("ko", DURING, "/who 강기정", ["강기정", "광주광역시장"], []),
    ("it", DURING, "/who lo russo", ["Stefano Lo Russo", "sindaco di Torino"], ["Kang Gijung /"]),
    ("en", DURING, "/who lorusso", ["Stefano Lo Russo"], []),
    ("en", DURING, "/who 로 루쏘", ["Stefano Lo Russo"], []),
    ("en", DURING, "/who park", ["Park Seon-cheol", "no Hangul spelling in the sources"], []),
    ("en", DURING, "/who shin su jeong", ["Shin Su Jeong"], []),
    ("en", DURING, "/who gatto", ["Emila Gatto", "Italian Ambassador"], []),
    ("en", DURING, "/who nobody", ["No one called “nobody”", "/people"], []),
    ("it", DURING, "/who", ["Indicare il nome della persona"], []),
    ("en", DURING, "/people", ["Delegation", "Hosts", "Shin Su Jeong"], []),
    # One screen that reads the clock; the whole visit behind /dossier.
    ("en", DURING, "/briefing", ["Day 2 of 3", "TODAY Tue 27 Aug", "no clock times"], ["Said"]),
    ("en", BEFORE, "/briefing", ["starts Mon 26 Aug", "FIRST DAY Mon 26 Aug"], ["TODAY"]),
    ("en", AFTER, "/briefing", ["concluded", "WHAT CAME OF IT"], ["TODAY"]),
    (
        "en",
        AFTER,
        "/dossier",
        [
            "The Mayor of Turin in Gwangju",
            "26–28 August 2024",
            "patto di collaborazione",
            "우호협력 협정",
            "Date not stated",
            "What was said",
            "translated from Korean",
            "Open questions",
            "Where the sources differ or are silent",
            "[1] Italian article, outlet not stated, date not stated",
            "[2] Korean article, 뉴스스텝",
        ],
        [],
    ),
    ("ko", DURING, "/dossier", ["토리노 시장 광주 방문", "주요 발언", "이탈리아어 원문 번역"], []),
    ("en", DURING, "/sources", ["광주광역시-伊 토리노시", "최선경 기자", "no headline"], []),
    # Slack's umbrella command and Telegram's @botname suffix.
    ("en", DURING, "/briefing itinerary tuesday", [TUESDAY["en"]], ["What was said"]),
    ("en", DURING, "/briefing who kang", ["Kang Gijung"], []),
    ("en", DURING, "/itinerary@BriefingsBot tuesday", [TUESDAY["en"]], []),
    ("en", DURING, "/briefing@BriefingsBot", ["TODAY Tue 27 Aug"], []),
    # Help, language, the unknown.
    ("en", DURING, "/help", ["/itinerary [day]", "/who <name>", "/lang <en|it|ko>"], []),
    ("it", DURING, "/start", ["Torino–Gwangju: note informative", "/briefing"], ["Ciao"]),
    ("en", DURING, "/frobnicate", ["I don't know the command “/frobnicate”", "/help"], []),
    ("ko", DURING, "/frobnicate", ["/help"], ["I don't know"]),
    ("en", DURING, "/lang xx", ["Choose a language"], []),
    ("en", DURING, "/lang it", ["Da ora le risposte sono in italiano"], []),
    ("en", DURING, "/lang 한국어", ["이제부터 한국어로 안내"], []),
    # A private chat may just name a day.
    ("it", DURING, "martedì?", [TUESDAY["it"]], []),
    ("en", DURING, "what's on tuesday", [TUESDAY["en"]], []),
    ("ko", DURING, "화요일 일정", [TUESDAY["ko"]], []),
    ("en", DURING, "hello there", ["I didn't understand that", "/help"], []),
]


@pytest.mark.parametrize(("lang", "now", "text", "expected", "absent"), DIALOGUE)
def test_dialogue(
    library: Library,
    renderer: Renderer,
    lang: Lang,
    now: datetime,
    text: str,
    expected: list[str],
    absent: list[str],
) -> None:
    answer = say(library, renderer, text, lang, now)
    for fragment in expected:
        assert fragment in answer
    for fragment in absent:
        assert fragment not in answer


def test_groups_get_no_answer_to_plain_talk(library: Library, renderer: Renderer) -> None:
    answer = say(library, renderer, "martedì", "it", DURING, private=False)
    assert TUESDAY["it"] not in answer


def test_lang_sets_the_language_and_nothing_else(library: Library) -> None:
    assert outcome(library, "/lang ko", "en", DURING).effects == (SetLang("ko"),)
    assert outcome(library, "/lang klingon", "en", DURING).effects == ()
    assert outcome(library, "/who kang", "en", DURING).effects == ()


def test_help_lists_every_command_of_the_table(library: Library, renderer: Renderer) -> None:
    for lang in ("en", "it", "ko"):
        answer = say(library, renderer, "/help", lang)  # type: ignore[arg-type]
        for command in COMMANDS:
            assert f"/{command.name}" in answer
        slack = "\n".join(
            m.text for m in renderer.render(outcome(library, "/help", "en", DURING).reply, "slack")
        )
        assert "/briefing itinerary" in slack


def test_day_view_has_buttons_for_every_day(library: Library) -> None:
    reply = outcome(library, "/itinerary martedì", "it", DURING).reply
    days = [b for b in reply.buttons if b.action.view == "day"]
    assert [b.action for b in days] == [
        Action("day", AUGUST, date(2024, 8, 26)),
        Action("day", AUGUST, date(2024, 8, 27)),
        Action("day", AUGUST, date(2024, 8, 28)),
    ]
    assert [b.selected for b in days] == [False, True, False]
    # Then every part of the briefing, to open in place and come back.
    parts = [b.action.view for b in reply.buttons if b.action.view != "day"]
    assert parts == ["briefing", "people", "quotes", "background", "sources", "dossier"]


def test_quotes_show_translation_marks_in_the_users_language(
    library: Library, renderer: Renderer
) -> None:
    italian = say(library, renderer, "/quotes", "it", AFTER)
    assert "La collaborazione e i progetti condivisi" in italian
    assert "traduzione dal testo in coreano" in italian
    korean = say(library, renderer, "/quotes", "ko", AFTER)
    assert "광주와 토리노는 대표적 자동차산업 도시이다" in korean
    assert "(이탈리아어 원문 번역)" in korean
