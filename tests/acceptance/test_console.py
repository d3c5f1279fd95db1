"""The console contract of DESIGN.md, run as a user runs it: `briefing-bot chat` in a pipe."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli import run_cli, run_python

from ..conftest import SEEDS


def chat(text: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("chat", *args, input=text)


@pytest.mark.parametrize(
    ("line", "args", "expected"),
    [
        ("/itinerary martedì", ["--lang", "it"], "martedì 27 agosto 2024"),
        ("/itinerary 8월 27일", ["--lang", "ko"], "2024. 8. 27.(화)"),
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
    assert "2024. 8. 26.(월)" in result.stdout


def test_telegram_format_prints_send_message_parameters() -> None:
    result = chat("/dossier\n", "--format", "telegram")
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


def test_visits_lists_both_visits() -> None:
    result = chat("/visits\n")
    assert result.returncode == 0, result.stderr
    assert "The Mayor of Turin in Gwangju · 26–28 August 2024" in result.stdout
    assert "The Mayor of Gwangju in Turin · April 2024, days not stated" in result.stdout


def test_the_april_visit_is_briefed_without_invented_days() -> None:
    result = chat("/visit 2\n/briefing\n/itinerary tuesday\n")
    assert result.returncode == 0, result.stderr
    assert "The Mayor of Gwangju in Turin" in result.stdout
    assert "April 2024, days not stated" in result.stdout
    assert "do not state its days" in result.stdout
    assert "Tuesday" not in result.stdout
    assert "Traceback" not in result.stderr


async def test_the_dialogue_through_the_console_in_every_format(library) -> None:
    """What the console prints for each step is the core's answer in that dialect, exactly."""
    import io

    from bot.console import CONSOLE_CHANNEL, CONSOLE_CHAT_ID, ConsoleChat
    from bot.session import SessionChatStates
    from bot.slack.payloads import post_message
    from bot.telegram.payloads import send_message
    from briefings.conversation import Conversation, Incoming
    from briefings.ports import ChatRef
    from briefings.rendering.renderer import Renderer
    from tests.dialogue import DIALOGUE, NOW

    renderer = Renderer()
    for dialect in ("plain", "telegram", "slack"):
        out = io.StringIO()
        console = ConsoleChat(
            Conversation(library, SessionChatStates(), lambda: NOW, persistent=False),
            renderer,
            dialect=dialect,
            out=out,
        )
        reference = Conversation(library, SessionChatStates(), lambda: NOW, persistent=False)
        chat_ref = ChatRef("console", str(CONSOLE_CHAT_ID))
        for step in DIALOGUE:
            out.seek(0)
            out.truncate()
            if step.press is not None:
                await console.press(step.press)
            else:
                await console.answer(step.text or "")
            incoming = Incoming(chat_ref, "private", "console", text=step.text, action=step.press)
            reply = (await reference.handle(incoming)).reply
            messages = renderer.render(reply, dialect)
            if dialect == "telegram":
                expected = "".join(
                    json.dumps(send_message(m, CONSOLE_CHAT_ID), ensure_ascii=False) + "\n"
                    for m in messages
                )
            elif dialect == "slack":
                expected = "".join(
                    json.dumps(post_message(m, CONSOLE_CHANNEL), ensure_ascii=False) + "\n"
                    for m in messages
                )
            else:
                expected = "".join(m.text + "\n\n" for m in messages)
            assert out.getvalue() == expected, f"{dialect}: {step}"
            plain = "\n".join(m.text for m in renderer.render(reply, "plain"))
            for fragment in step.says:
                assert fragment in plain, f"{step}: {fragment!r}"


@pytest.mark.parametrize("dialect", ["plain", "telegram", "slack"])
@pytest.mark.parametrize(
    ("kind", "day"),
    [("eve", "2024-08-25"), ("morning", "2024-08-27"), ("recap", "2024-08-29")],
)
def test_digest_prints_one_message_as_a_subscriber_gets_it(
    kind: str, day: str, dialect: str
) -> None:
    result = run_cli("digest", "--kind", kind, "--day", day, "--lang", "ko", "--format", dialect)
    assert result.returncode == 0, result.stderr
    if dialect == "plain":
        assert result.stdout.strip()
        assert "토리노 시장 광주 방문" in result.stdout
    else:
        [line] = result.stdout.splitlines()  # one message
        payload = json.loads(line)
        assert "토리노 시장 광주 방문" in payload["text"]
        if dialect == "telegram":
            assert payload["parse_mode"] == "HTML"
        else:
            assert len(payload["blocks"]) >= 1


def test_digest_of_a_day_without_one_says_which_there_are() -> None:
    result = run_cli("digest", "--kind", "morning", "--day", "2024-04-15")
    assert result.returncode == 2
    assert "no such digest" in result.stderr
    assert "morning 2024-08-27 (turin-gwangju-2024)" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_console_keeps_the_seeds_cache_and_follows_an_edited_seed(tmp_path: Path) -> None:
    """The second start reads the validated seeds from the cache; an edit to a seed is seen at
    the next start, not hidden behind the cache."""
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    env = {"BRIEFINGS_SEEDS_DIR": str(seeds)}
    ask = "/visit 1\n/briefing\n"
    first = run_cli("chat", "--lang", "en", input=ask, env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "The Mayor of Turin in Gwangju" in first.stdout
    cache = tmp_path / "cache" / "seeds.pickle"
    assert cache.is_file()
    again = run_cli("chat", "--lang", "en", input=ask, env=env, cwd=tmp_path)
    assert again.stdout == first.stdout

    dossier = seeds / "visits" / "turin-gwangju-2024.yaml"
    text = dossier.read_text(encoding="utf-8")
    old, new = "  en: The Mayor of Turin in Gwangju\n", "  en: The Mayor of Turin visits Gwangju\n"
    dossier.write_text(text.replace(old, new, 1), encoding="utf-8")
    edited = run_cli("chat", "--lang", "en", input=ask, env=env, cwd=tmp_path)
    assert edited.returncode == 0, edited.stderr
    assert "The Mayor of Turin visits Gwangju" in edited.stdout
    assert "The Mayor of Turin in Gwangju" not in edited.stdout

    cache.write_bytes(b"\x80\x05 not a whole pickle")
    corrupt = run_cli("chat", "--lang", "en", input=ask, env=env, cwd=tmp_path)
    assert corrupt.returncode == 0, corrupt.stderr
    assert corrupt.stdout == edited.stdout


def test_a_console_start_from_the_cache_imports_nothing_it_does_not_use(tmp_path: Path) -> None:
    """No YAML parser once the seeds and labels come from the cache; no calendar, database or
    platform library for a /briefing in the console."""
    show = (
        "import sys; from bot.cli import main; main(['chat']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'yaml', 'icalendar', 'sqlalchemy', 'alembic', 'telegram', 'slack_bolt', "
        "'slack_sdk', 'apscheduler', 'aiohttp', 'httpx'}), file=sys.stderr)"
    )
    first = run_python("-c", show, input="/briefing\n", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "'yaml'" in first.stderr  # the first start reads the files
    second = run_python("-c", show, input="/briefing\n", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stderr.strip().splitlines()[-1] == "[]"
    assert second.stdout == first.stdout
