"""Digests of a visit, their due times across time zones and daylight saving, subscribe parsing."""

from datetime import UTC, date, datetime, time

import pytest

from briefings.commands import Subscribe, Unsubscribe
from briefings.digests import digests
from briefings.languages import Lang
from briefings.library import Library
from briefings.loader import Seeds
from briefings.ports import ChatState, Subscription
from briefings.rendering.renderer import Renderer
from briefings.schedule import Digest, due_at, parse_time
from briefings.subscriptions import parse_subscribe, valid_timezone

from ..conftest import DURING
from .talk import APRIL, AUGUST, outcome, plain


def test_a_visit_has_an_eve_three_mornings_and_a_recap(seeds: Seeds) -> None:
    keys = [d.key for d in digests(seeds.visits[-1])]
    assert keys == [
        "turin-gwangju-2024:eve:2024-08-25",
        "turin-gwangju-2024:morning:2024-08-26",
        "turin-gwangju-2024:morning:2024-08-27",
        "turin-gwangju-2024:morning:2024-08-28",
        "turin-gwangju-2024:recap:2024-08-29",
    ]


@pytest.mark.parametrize(
    ("day", "zone", "expected_utc"),
    [
        # Rome leaves summer time on Sunday 27 October 2024: 07:30 is 05:30 UTC before, 06:30 after.
        (date(2024, 10, 26), "Europe/Rome", datetime(2024, 10, 26, 5, 30, tzinfo=UTC)),
        (date(2024, 10, 27), "Europe/Rome", datetime(2024, 10, 27, 6, 30, tzinfo=UTC)),
        (date(2024, 10, 28), "Europe/Rome", datetime(2024, 10, 28, 6, 30, tzinfo=UTC)),
        # And enters it on 31 March 2024.
        (date(2024, 3, 30), "Europe/Rome", datetime(2024, 3, 30, 6, 30, tzinfo=UTC)),
        (date(2024, 3, 31), "Europe/Rome", datetime(2024, 3, 31, 5, 30, tzinfo=UTC)),
        # Seoul keeps no daylight saving.
        (date(2024, 8, 27), "Asia/Seoul", datetime(2024, 8, 26, 22, 30, tzinfo=UTC)),
    ],
)
def test_due_time_is_local_time_whatever_daylight_saving_does(
    day: date, zone: str, expected_utc: datetime
) -> None:
    assert due_at(Digest("v", "morning", day), time(7, 30), zone) == expected_utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07:30", time(7, 30)),
        ("7:30", time(7, 30)),
        ("0730", time(7, 30)),
        ("7.05", time(7, 5)),
        ("18h45", time(18, 45)),
        ("24:00", None),
        ("7:60", None),
        ("7", None),
        ("abc", None),
        ("", None),
        ("7:3", None),
    ],
)
def test_parse_time(text: str, expected: time | None) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("", (time(7, 30), "Asia/Seoul")),
        ("08:00", (time(8, 0), "Asia/Seoul")),
        ("07:30 Europe/Rome", (time(7, 30), "Europe/Rome")),
        ("europe/rome 6:45", (time(6, 45), "Europe/Rome")),
        ("UTC", (time(7, 30), "UTC")),
        ("07:30 Mars/Olympus", "Mars/Olympus"),
        ("07:30 CET", "CET"),
        ("07:30 ../../etc/passwd", "../../etc/passwd"),
        ("25:00", "25:00"),
    ],
)
def test_parse_subscribe(args: str, expected: tuple[time, str] | str) -> None:
    result = parse_subscribe(args, "Asia/Seoul")
    if isinstance(expected, str):
        assert result == expected
    else:
        assert not isinstance(result, str)
        assert (result.at, result.timezone) == expected


def test_valid_timezone_rejects_abbreviations_and_paths() -> None:
    assert valid_timezone("Europe/Rome")
    assert not valid_timezone("CET")
    assert not valid_timezone("/etc/localtime")
    assert not valid_timezone("Europe/../../etc")


def _say(library: Library, renderer: Renderer, text: str, lang: Lang = "en", **kw: object) -> str:
    return plain(renderer, outcome(library, text, lang, DURING, **kw))


def test_subscribe_asks_for_a_subscription_and_shows_its_schedule(
    library: Library, renderer: Renderer
) -> None:
    result = outcome(library, "/subscribe 07:30 Europe/Rome", "it", DURING)
    assert result.effects == (Subscribe("turin-gwangju", time(7, 30), "Europe/Rome"),)
    answer = plain(renderer, result)
    assert "alle 07:30 (Europe/Rome)" in answer
    # The eve preview is 07:30 in Rome on Sunday 25 August, already past at DURING.
    assert "dom 25 ago 2024, 07:30: Anteprima della vigilia" in answer
    assert "gio 29 ago 2024, 07:30: Riepilogo finale" in answer
    # DURING is 02:00 on the 27th in Rome: the eve and the first morning are past.
    assert answer.count("(passato)") == 2


def test_subscriptions_and_unsubscribe_read_the_chats_state(
    library: Library, renderer: Renderer
) -> None:
    state = ChatState("it", subscription=Subscription("turin-gwangju", time(7, 30), "Europe/Rome"))
    listing = _say(library, renderer, "/subscriptions", "ko", state=state)
    assert "07:30(Europe/Rome) 한국어 알림 수신 중" in listing
    result = outcome(library, "/unsubscribe", "en", DURING, state=state)
    assert result.effects == (Unsubscribe(),)
    assert "Unsubscribed" in plain(renderer, result)
    assert "has no digests" in _say(library, renderer, "/unsubscribe")
    assert "has no digests" in _say(library, renderer, "/subscriptions")


def test_bad_subscribe_changes_nothing(library: Library, renderer: Renderer) -> None:
    result = outcome(library, "/subscribe 07:30 Moon/Base", "ko", DURING)
    assert result.effects == ()
    answer = plain(renderer, result)
    assert "“Moon/Base”" in answer
    assert "예: /subscribe 07:30 Asia/Seoul" in answer


def test_subscribe_in_the_console_explains_itself(library: Library, renderer: Renderer) -> None:
    assert "Telegram or Slack" in _say(library, renderer, "/subscribe", persistent=False)


def test_a_visit_without_days_has_no_digests(library: Library) -> None:
    april = library.visit(APRIL)
    assert april is not None
    assert digests(april) == []
    assert {d.visit_id for d in library.plan("turin-gwangju")} == {AUGUST}
