"""The console contract of DESIGN.md, run as a user runs it: `briefing-bot chat` in a pipe."""

import json
import subprocess

import pytest

from tests.cli import run_cli


def chat(text: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("chat", *args, input=text)


@pytest.mark.parametrize(
    ("line", "args", "expected"),
    [
        ("/itinerary martedì", ["--lang", "it"], "martedì 27 agosto 2024"),
        ("/itinerary 8월 27일", ["--lang", "ko"], "2024년 8월 27일 화요일"),
        ("/itinerary day 2", [], "Tuesday 27 August 2024"),
    ],
)
def test_a_day_in_three_languages(line: str, args: list[str], expected: str) -> None:
    result = chat(line + "\n", *args)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
    assert "Gwangju Global Motors" in result.stdout or "광주글로벌모터스" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("now", "today", "next_day"),
    [
        ("2024-08-26T08:00+09:00", "Monday 26 August 2024", "Tuesday 27 August 2024"),
        ("2024-08-27T10:00", "Tuesday 27 August 2024", "Wednesday 28 August 2024"),
        # 20:00 in Rome on the 26th is already the 27th in Gwangju.
        ("2024-08-26T20:00+02:00", "Tuesday 27 August 2024", "Wednesday 28 August 2024"),
    ],
)
def test_today_and_next_follow_now(now: str, today: str, next_day: str) -> None:
    result = chat("/today\n/next\n", "--now", now)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.split("/sources\n", 1)[:2]
    assert today in first
    assert next_day in second


def test_lang_changes_the_language_for_the_rest_of_the_session() -> None:
    result = chat("/lang ko\n/itinerary day 1\n")
    assert "2024년 8월 26일 월요일" in result.stdout


def test_telegram_format_prints_send_message_parameters() -> None:
    result = chat("/briefing\n", "--format", "telegram")
    lines = result.stdout.splitlines()
    assert len(lines) >= 2
    payloads = [json.loads(line) for line in lines]
    assert all(p["parse_mode"] == "HTML" for p in payloads)
    assert all(
        set(p) <= {"chat_id", "text", "parse_mode", "reply_markup", "link_preview_options"}
        for p in payloads
    )
    assert "reply_markup" in payloads[-1]
    assert "<b>The Mayor of Turin in Gwangju</b>" in payloads[0]["text"]


def test_slack_format_prints_post_message_arguments() -> None:
    result = chat("/itinerary tuesday\n", "--format", "slack")
    payloads = [json.loads(line) for line in result.stdout.splitlines()]
    assert payloads
    assert all(set(p) == {"channel", "text", "blocks"} for p in payloads)
    assert payloads[-1]["blocks"][-1]["type"] == "actions"
    # Slack has one slash command: the reply points at `/briefing sources`, not `/sources`.
    assert "/briefing sources" in payloads[-1]["text"]
    assert " /sources" not in payloads[-1]["text"]


def test_bad_now_is_a_clear_error() -> None:
    result = chat("/today\n", "--now", "yesterday-ish")
    assert result.returncode == 2
    assert "not an ISO-8601 date and time" in result.stderr


def test_blank_lines_are_ignored_and_markup_is_not_echoed() -> None:
    result = chat("\n\n/who <b>x</b>\n", "--format", "telegram")
    payload = json.loads(result.stdout.splitlines()[0])
    assert "<b>x</b>" not in payload["text"]
    assert "&lt;b&gt;x&lt;/b&gt;" in payload["text"]
