"""Every command, in every language and at every point of the visit, as each platform receives it.

Each test states one rule and checks it on the whole corpus of replies (every command with the
arguments people type, stray input, three languages, four moments of the visit), naming every case
that breaks it. The rules themselves (what Telegram, Slack and a terminal accept) live in
tests/platform_rules.py, shared with the property tests in test_properties.py.
"""

from collections.abc import Callable, Sequence

import pytest

from briefings.commands import COMMANDS
from briefings.languages import LANGS, Lang
from briefings.rendering.dialects import DialectName
from briefings.rendering.renderer import Message
from briefings.replies import Reply
from tests.platform_rules import (
    AUGUST,
    CLOCKS,
    DIALECT_NAMES,
    library,
    plain_problems,
    press,
    rendered,
    renderer,
    slack_problems,
    slack_sections,
    split_losses,
    telegram_problems,
)
from tests.telegram_html import telegram_text

VISIT = library().visit(AUGUST)
assert VISIT is not None
VISIT_DAYS = tuple(d.isoformat() for d in VISIT.days)
ARGS: dict[str, tuple[str, ...]] = {
    "itinerary": (
        "",
        *VISIT_DAYS,
        *(f"day {n}" for n in range(1, len(VISIT_DAYS) + 1)),
        "tuesday",
        "martedì",
        "화요일",
        "27 agosto",
        "8월 28일",
        "tomorrow",
        "31 December",
        "not a day",
    ),
    "who": ("", "kang", "강기정", "lo russo", "lorusso", "nobody", "sindaco", "ambassador"),
    "lang": ("", "en", "it", "ko", "italiano", "한국어", "klingon"),
    "briefing": ("", "itinerary tuesday", "who kang", "/people", "nonsense words"),
    "visit": ("", "1", "2", "aprile", "torino", "8월", "auto", "99", "nothing like it"),
    "subscribe": ("", "07:30", "07:30 Europe/Rome", "25:99", "Moon/Base"),
}
OTHER_INPUTS = (
    "",
    "/",
    "/nonexistent",
    "/frobnicate@some_bot with args",
    "/HELP",
    "/help@briefing_bot",
    "/who@briefing_bot kang",
    "hello",
    "martedì?",
    "what's on tuesday",
    "화요일 일정",
)
NOT_A_COMMAND = "(other input)"
INPUTS: dict[str, tuple[str, ...]] = {
    **{c.name: tuple(f"/{c.name} {a}".rstrip() for a in ARGS.get(c.name, ("",))) for c in COMMANDS},
    NOT_A_COMMAND: OTHER_INPUTS,
}
Case = tuple[str, Lang, str]
CASES: dict[str, list[Case]] = {
    name: [(text, lang, clock) for text in texts for lang in LANGS for clock in CLOCKS]
    for name, texts in INPUTS.items()
}
EVERY_CASE = [case for cases in CASES.values() for case in cases]
Judge = Callable[[Sequence[Message], Reply], list[str]]
JUDGES: dict[DialectName, Judge] = {
    "telegram": telegram_problems,
    "slack": slack_problems,
    "plain": plain_problems,
}


def broken(
    cases: list[Case], rule: Callable[[Reply, list[Message]], list[str]], dialect: str
) -> list[str]:
    """Every case that breaks `rule` in `dialect`, with what is wrong: empty when all hold."""
    found = []
    for text, lang, clock in cases:
        reply, messages = rendered(text, lang, clock)
        found += [f"{text!r} {lang} {clock}: {p}" for p in rule(reply, messages[dialect])]
    return found


def test_args_name_real_commands() -> None:
    assert set(ARGS) <= {c.name for c in COMMANDS}


@pytest.mark.parametrize("dialect", DIALECT_NAMES)
@pytest.mark.parametrize("command", list(INPUTS))
def test_every_reply_is_one_the_platform_accepts(command: str, dialect: DialectName) -> None:
    """Within the platform's limits, escaped, buttons only under the last message."""
    judge = JUDGES[dialect]
    assert broken(CASES[command], lambda reply, messages: judge(messages, reply), dialect) == []


@pytest.mark.parametrize("dialect", ["telegram", "plain"])
def test_long_replies_are_cut_between_items_and_lose_nothing(dialect: DialectName) -> None:
    def rule(reply: Reply, messages: list[Message]) -> list[str]:
        return split_losses(messages, renderer().items(reply, dialect))

    assert broken(EVERY_CASE, rule, dialect) == []


def test_each_slack_section_is_one_item_in_order() -> None:
    def rule(reply: Reply, messages: list[Message]) -> list[str]:
        sections, items = slack_sections(messages), renderer().items(reply, "slack")
        return [] if sections == items else [f"sections {sections[:2]!r}… vs items {items[:2]!r}…"]

    assert broken(EVERY_CASE, rule, "slack") == []


@pytest.mark.parametrize(
    ("dialect", "shown"),
    [
        ("telegram", "“&lt;b&gt;x&lt;/b&gt; &amp; o'brien”"),
        # Slack escapes & < > and nothing else: an HTML escaper's &#39; would show literally.
        ("slack", "“&lt;b&gt;x&lt;/b&gt; &amp; o'brien”"),
        ("plain", "“<b>x</b> & o'brien”"),
    ],
)
def test_what_people_type_is_escaped_by_the_dialect(dialect: DialectName, shown: str) -> None:
    _, messages = rendered("/who <b>x</b> & o'brien", "en", "during")
    assert shown in messages[dialect][0].text


@pytest.mark.parametrize("lang", LANGS)
def test_briefing_is_split_in_telegram_and_loses_nothing(lang: Lang) -> None:
    _, messages = rendered("/dossier", lang, "after")
    telegram = [telegram_text(m.text) for m in messages["telegram"]]
    assert len(telegram) > 1
    visit = VISIT
    expected = [
        *(event.title(lang) for event in visit.programme),
        *(quote.text(lang) for quote in visit.quotes),
        *(name.text for person in visit.people for name in person.names),
        *(statement.text(lang) for statement in visit.background),
        *(statement.text(lang) for statement in visit.open_questions),
        *(note.text(lang) for note in visit.source_notes),
    ]
    missing = [text for text in expected if not any(text in message for message in telegram)]
    assert missing == []


@pytest.mark.parametrize("lang", LANGS)
def test_day_buttons_run_the_day_they_name(lang: Lang) -> None:
    reply, _ = rendered("/itinerary", lang, "during")
    days = [b for b in reply.buttons if b.action.view == "day"]
    assert len(days) == len(VISIT_DAYS)
    for button, day in zip(days, VISIT_DAYS, strict=True):
        pressed = press(button.action, lang, CLOCKS["during"])
        assert pressed.view == "day"
        selected = [b.selected for b in pressed.buttons if b.action.view == "day"]
        assert selected == [d == day for d in VISIT_DAYS]
