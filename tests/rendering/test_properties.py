"""Whatever people type, the command table answers and the answer is safe to send on every platform.

Users paste anything: markup, Slack mentions, control characters, 10,000-character walls, four
scripts at once. A crash is a silent bot, and text reaching the markup unescaped is a broken or
forged message (`<!channel>` pings a whole Slack channel), so these properties are checked on
generated input rather than on the few cases anyone thinks of.

The oracle for "nothing got in unescaped" is the plain dialect, which shows user text literally:
once Telegram has parsed its HTML, and once Slack's three escapes are undone, each must read
exactly like plain text. An unescaped `<b>` would vanish into a tag and break the equality, which
a substring search cannot see, since our own templates print `<b>` too.
"""

import re
import string
from datetime import datetime

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.slack.payloads import post_message as slack_post_message
from briefings.commands import COMMANDS
from briefings.languages import LANGS, Lang
from briefings.replies import Reply
from tests.platform_rules import (
    CLOCKS,
    CONTROL,
    PLAIN_LIMIT,
    answer,
    renderer,
    slack_problems,
    telegram_problems,
)
from tests.telegram_html import telegram_text

MARKUP = (
    "<b>",
    "</b>",
    "<i>",
    "</i>",
    "<a href=x>",
    "</a>",
    "<script>",
    "&amp;",
    "&lt;",
    "&#39;",
    "&quot;",
    "&",
    "<",
    ">",
    "<!channel>",
    "<!here>",
    "<@U123>",
    "<#C123|general>",
    "<http://x|y>",
    "*bold*",
    "_italic_",
    "`code`",
    "{name}",
    "{0}",
)
# Never ours to print in Telegram or Slack: only user text could bring them in.
FOREIGN = ("<a href=x>", "</a>", "<script>", "<!channel>", "<!here>", "<@U123>", "<http://x|y>")
# Our templates print these in Telegram; the plain-text oracle catches them there instead.
OURS_IN_TELEGRAM = ("<b>", "</b>", "<i>", "</i>")
CONTROLS = (
    *(chr(c) for c in range(0x20)),
    "\x7f",
    "\x85",
    "\x9b",
    "\x1e",  # our own item separator
    "\u202a",
    "\u202b",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2069",
)
WORDS = (
    "tuesday",
    "martedì",
    "화요일",
    "27 agosto",
    "8월 27일",
    "day 2",
    "tomorrow",
    "kang",
    "강기정",
    "lo russo",
    "it",
    "ko",
    "who",
    "itinerary",
    "/help",
)
PREFIXES = (
    "",
    "/",
    "/who ",
    "/itinerary ",
    "/lang ",
    "/today ",
    "/briefing ",
    "/briefing who ",
    "/briefing itinerary ",
    "/nonexistent@bot ",
)

latin = st.text(alphabet=string.ascii_letters + "àèéìòùÀÉ '’-.,?!", max_size=20)
hangul = st.text(alphabet=st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3), max_size=10)
# Whole sequences: skin tones, flags, families and variation selectors span several code points.
emoji = st.lists(
    st.sampled_from(["😀", "👍🏽", "🇮🇹", "🇰🇷", "👨‍👩‍👧", "❤️", "🚗", "\u200d", "\ufe0f"]), max_size=6
).map("".join)
arabic = st.text(alphabet=st.characters(min_codepoint=0x0600, max_codepoint=0x06FF), max_size=10)
pieces = st.one_of(
    st.sampled_from(MARKUP),
    st.sampled_from(CONTROLS),
    st.sampled_from(WORDS),
    latin,
    hangul,
    emoji,
    arabic,
    st.text(max_size=10),
)
bodies = st.lists(pieces, max_size=25).map("".join)
# A 10,000-character wall, of one body repeated so generating it stays cheap.
walls = bodies.map(lambda body: ((body or "x") * 10_000)[:10_000])
# Longer than any echo may be, of letters only so that no escaping or cleaning can alter it.
markers = st.text(alphabet=string.ascii_letters, min_size=45, max_size=80).map(lambda m: "Zq" + m)
MARK = "Zq" + "m" * 45


@st.composite
def messages(draw: st.DrawFn) -> tuple[str, str]:
    """A message as a user might send it, and a marker hidden in it that no reply may repeat."""
    marker = draw(markers)
    before = draw(st.one_of(bodies, walls))
    after = draw(st.one_of(bodies, walls))
    where = draw(st.sampled_from(["start", "middle", "end"]))
    if where == "start":
        body = marker + " " + before
    elif where == "middle":
        body = before[:200] + marker + after
    else:
        body = before[:300] + " " + marker
    return draw(st.sampled_from(PREFIXES)) + body, marker


SLACK_COMMAND = re.compile(rf"/briefing (?=(?:{'|'.join(c.name for c in COMMANDS)})\b)")


def outputs(reply: Reply) -> dict[str, list[str]]:
    """Every string each platform would receive for `reply`, texts, blocks and buttons alike."""
    result: dict[str, list[str]] = {}
    for dialect in ("telegram", "slack", "plain"):
        strings: list[str] = []
        for message in renderer().render(reply, dialect):
            strings.append(message.text)
            strings.extend(message.sections)
            if dialect == "slack":
                strings.extend(_strings(slack_post_message(message, "C1")))
            strings.extend(b.label for b in message.buttons)
        result[dialect] = strings
    return result


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def _slack_as_plain(text: str) -> str:
    unescaped = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub("[*_]", "", unescaped)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    message=messages(),
    lang=st.sampled_from(LANGS),
    clock=st.sampled_from(sorted(CLOCKS)),
)
@example(message=(f"/who <b>x</b>{MARK}", MARK), lang="en", clock="during")
@example(message=(f"/nonexistent@bot <!channel> <@U123> {MARK}", MARK), lang="it", clock="before")
@example(message=(f"/<b>x</b>{MARK}", MARK), lang="ko", clock="after")
@example(message=(f"/itinerary \x1e<i>\x1e{MARK}", MARK), lang="en", clock="during")
@example(message=(f"/who &amp; <http://x|y>\u202e{MARK}", MARK), lang="en", clock="during")
@example(message=(f"/briefing who {MARK}</i>" * 200, MARK), lang="ko", clock="first-morning-utc")
def test_any_input_is_answered_safely(message: tuple[str, str], lang: Lang, clock: str) -> None:
    text, marker = message
    reply = answer(text, lang, CLOCKS[clock])
    telegram = renderer().render(reply, "telegram")
    slack = renderer().render(reply, "slack")
    plain = renderer().render(reply, "plain")

    assert telegram_problems(telegram, reply) == []
    assert slack_problems(slack, reply) == []
    assert plain
    for m in plain:
        assert m.text.strip()
        assert len(m.text) <= PLAIN_LIMIT
        assert not CONTROL.search(m.text)

    # Each dialect reads as the plain text once its own markup is taken away.
    plain_items = renderer().items(reply, "plain")
    assert [telegram_text(i) for i in renderer().items(reply, "telegram")] == plain_items
    # Slack spells `/help` as `/briefing help`, its one slash command's first word.
    assert [
        SLACK_COMMAND.sub("/", _slack_as_plain(i)) for i in renderer().items(reply, "slack")
    ] == [re.sub("[*_]", "", i) for i in plain_items]

    sent = outputs(reply)
    for dialect in ("telegram", "slack"):
        for dangerous in FOREIGN:
            assert not any(dangerous in s for s in sent[dialect]), (dialect, dangerous)
        assert not any(CONTROL.search(s) for s in sent[dialect]), dialect
    for ours in OURS_IN_TELEGRAM:
        assert not any(ours in s for s in sent["slack"]), ours
    for dialect, strings in sent.items():
        assert not any(marker in s for s in strings), f"{dialect} echoes the marker in full"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.one_of(bodies, walls).flatmap(lambda b: st.sampled_from(PREFIXES).map(lambda p: p + b)),
    lang=st.sampled_from(LANGS),
    now=st.datetimes(
        min_value=datetime(1900, 1, 2),  # naive bounds: `timezones` makes each value aware
        max_value=datetime(2200, 12, 30),
        timezones=st.timezones(),
    ),
)
def test_any_input_at_any_time_gets_a_reply(text: str, lang: Lang, now: datetime) -> None:
    reply = answer(text, lang, now)
    assert reply.lang in LANGS
    assert telegram_problems(renderer().render(reply, "telegram"), reply) == []
    assert slack_problems(renderer().render(reply, "slack"), reply) == []
    assert renderer().render(reply, "plain")
