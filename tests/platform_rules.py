"""What each platform accepts, judged on the exact send-call payloads: shared rules for tests.

A reply that reads well in the console can still be refused whole by Telegram (one stray `&`, one
message over 4096) or by Slack (a section over 3000, a 51st block), and the failure shows only in
production. These helpers list why a platform would refuse or garble rendered messages, using
independent oracles: our Telegram HTML validator and slack_sdk's own Block Kit models. The dialect
tests and the property tests in tests/rendering both judge with them.
"""

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from bot.slack.payloads import post_message as slack_post_message
from bot.telegram.payloads import send_message as telegram_send_message
from briefings.commands import Briefing, Context, handle
from briefings.languages import Lang
from briefings.loader import load_seeds
from briefings.rendering import SLACK_FALLBACK_LIMIT, Message, Renderer
from briefings.rendering.dialects import DialectName
from briefings.replies import Reply
from tests.telegram_html import ALLOWED_TAGS, telegram_length, telegram_text, utf16_length, validate

SEEDS_DIR = Path(__file__).resolve().parents[1] / "seeds"
SEOUL = ZoneInfo("Asia/Seoul")

TELEGRAM_LIMIT = 4096
TELEGRAM_CALLBACK_BYTES = 64
SLACK_MAX_BLOCKS = 50
SLACK_SECTION_LIMIT = 3000
PLAIN_LIMIT = 4096
DIALECT_NAMES: tuple[DialectName, ...] = ("telegram", "slack", "plain")

# C0 and C1 controls but newline, and the bidi overrides that can disguise text.
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Slack escapes exactly & < >; anything else that looks like an entity shows literally.
SLACK_BAD_AMPERSAND = re.compile(r"&(?!(?:amp|lt|gt);)")
# Plain text may show `<name>` as a placeholder, but never a tag a markup dialect would use.
PLAIN_TAG = re.compile(rf"</?(?:{'|'.join(ALLOWED_TAGS)})(?:\s[^<>]*)?/?>", re.IGNORECASE)
PLAIN_ENTITY = re.compile(r"&(?:[a-zA-Z]+|#[0-9]+|#[xX][0-9a-fA-F]+);")

CLOCKS: dict[str, datetime] = {
    "before": datetime(2024, 8, 20, 10, 0, tzinfo=SEOUL),
    # 08:30 on the first day in Seoul is still the day before in UTC.
    "first-morning-utc": datetime(2024, 8, 25, 23, 30, tzinfo=UTC),
    "during": datetime(2024, 8, 27, 9, 0, tzinfo=SEOUL),
    "after": datetime(2024, 9, 5, 12, 0, tzinfo=SEOUL),
}


@cache
def briefing() -> Briefing:
    """The seeds, loaded once for the whole session."""
    seeds = load_seeds(SEEDS_DIR)
    return Briefing(seeds.visit, seeds.articles)


@cache
def renderer() -> Renderer:
    return Renderer()


def answer(text: str, lang: Lang, now: datetime) -> Reply:
    return handle(briefing(), Context(lang, now), text)


@cache
def rendered(text: str, lang: Lang, clock: str) -> tuple[Reply, dict[DialectName, list[Message]]]:
    reply = answer(text, lang, CLOCKS[clock])
    return reply, {d: renderer().render(reply, d) for d in DIALECT_NAMES}


# --- what each platform accepts -----------------------------------------------------------------


def telegram_problems(messages: Sequence[Message], reply: Reply) -> list[str]:
    """Why Telegram would refuse or garble these messages; empty when it would take them all."""
    problems = [] if messages else ["no message at all"]
    for n, message in enumerate(messages):
        last = n == len(messages) - 1
        payload = telegram_send_message(message, 1)
        text = payload["text"]
        where = f"message {n + 1}/{len(messages)}"
        if payload.get("parse_mode") != "HTML":
            problems.append(f"{where}: parse_mode is {payload.get('parse_mode')!r}")
        problems.extend(f"{where}: {p}" for p in validate(text))
        if not telegram_text(text).strip():
            problems.append(f"{where}: empty once parsed")
        if telegram_length(text) > TELEGRAM_LIMIT:
            problems.append(f"{where}: {telegram_length(text)} UTF-16 units once parsed")
        if utf16_length(text) > TELEGRAM_LIMIT:
            problems.append(f"{where}: markup is {utf16_length(text)} UTF-16 units")
        if CONTROL.search(text):
            problems.append(f"{where}: control character {CONTROL.search(text)!r}")
        markup = payload.get("reply_markup")
        if markup is not None and not last:
            problems.append(f"{where}: buttons on a message that is not the last")
        if last and bool(reply.buttons) != (markup is not None):
            problems.append(f"{where}: the last message should carry the reply's buttons")
        for button in _telegram_buttons(markup):
            data = button.get("callback_data", "")
            if not 1 <= len(data.encode("utf-8")) <= TELEGRAM_CALLBACK_BYTES:
                problems.append(f"{where}: callback_data {data!r} is not 1-64 bytes")
            if not button.get("text", "").strip():
                problems.append(f"{where}: a button without text")
    return problems


def _telegram_buttons(markup: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
    for row in (markup or {}).get("inline_keyboard", []):
        yield from row


def slack_problems(messages: Sequence[Message], reply: Reply) -> list[str]:
    """Why Slack would refuse or garble these messages, judged by slack_sdk's own models."""
    problems = [] if messages else ["no message at all"]
    for n, message in enumerate(messages):
        last = n == len(messages) - 1
        payload = slack_post_message(message, "C0123456789")
        where = f"message {n + 1}/{len(messages)}"
        blocks = payload["blocks"]
        if not payload["text"].strip():
            problems.append(f"{where}: empty fallback text")
        if len(payload["text"]) > SLACK_FALLBACK_LIMIT:
            problems.append(f"{where}: fallback text of {len(payload['text'])} characters")
        if not 1 <= len(blocks) <= SLACK_MAX_BLOCKS:
            problems.append(f"{where}: {len(blocks)} blocks")
        mrkdwn = [payload["text"]]
        for k, block in enumerate(blocks):
            problems.extend(f"{where}, block {k + 1}: {p}" for p in _block_problems(block))
            if block.get("type") == "section":
                text = block.get("text", {}).get("text", "")
                mrkdwn.append(text)
                if len(text) > SLACK_SECTION_LIMIT:
                    problems.append(f"{where}, block {k + 1}: section of {len(text)} characters")
        for text in mrkdwn:
            if bad := SLACK_BAD_AMPERSAND.search(text):
                problems.append(f"{where}: '&' not starting &amp;/&lt;/&gt;: {_around(bad, text)}")
            # We send no links or mentions, so any angle bracket is one the escaping missed.
            if bad := re.search("[<>]", text):
                problems.append(f"{where}: raw angle bracket: {_around(bad, text)}")
            if bad := CONTROL.search(text):
                problems.append(f"{where}: control character {bad.group()!r}")
        actions = [b for b in blocks if b.get("type") == "actions"]
        if actions and not (last and blocks[-1] is actions[0] and len(actions) == 1):
            problems.append(f"{where}: buttons must be one actions block closing the last message")
        if last and bool(reply.buttons) != bool(actions):
            problems.append(f"{where}: the last message should carry the reply's buttons")
    return problems


def _block_problems(block: dict[str, Any]) -> list[str]:
    try:
        parsed = Block.parse(block)
        if parsed is None or type(parsed) is Block:
            return [f"unknown block type {block.get('type')!r}"]
        parsed.validate_json()
        # to_dict validates nested elements too; comparing catches keys slack_sdk dropped.
        if parsed.to_dict() != block:
            return [f"slack_sdk reads it as {parsed.to_dict()!r}"]
    except SlackObjectFormationError as exc:
        return [f"invalid: {exc}"]
    return []


def _around(match: re.Match[str], text: str) -> str:
    return repr(text[max(0, match.start() - 20) : match.end() + 20])


def plain_problems(messages: Sequence[Message], reply: Reply) -> list[str]:
    problems = [] if messages else ["no message at all"]
    for n, message in enumerate(messages):
        where = f"message {n + 1}/{len(messages)}"
        text = message.text
        if not text.strip():
            problems.append(f"{where}: empty")
        if len(text) > PLAIN_LIMIT:
            problems.append(f"{where}: {len(text)} characters")
        if bad := PLAIN_TAG.search(text):
            problems.append(f"{where}: markup tag {bad.group()!r}")
        if bad := PLAIN_ENTITY.search(text):
            problems.append(f"{where}: entity {bad.group()!r}")
        if bad := CONTROL.search(text):
            problems.append(f"{where}: control character {bad.group()!r}")
        if message.blocks:
            problems.append(f"{where}: blocks in plain text")
        if message.buttons and n != len(messages) - 1:
            problems.append(f"{where}: buttons on a message that is not the last")
    return problems


def split_losses(messages: Sequence[Message], items: Sequence[str]) -> list[str]:
    """What packing dropped or changed: messages must be the items, in order, cut between them.

    Holds whenever every item fits one message, as every item our templates make does.
    """
    joined = "\n\n".join(m.text for m in messages)
    expected = "\n\n".join(items)
    if joined == expected:
        return []
    at = next((i for i, (a, b) in enumerate(zip(joined, expected, strict=False)) if a != b), None)
    at = min(len(joined), len(expected)) if at is None else at
    return [f"messages and items part at {at}: {joined[at:][:40]!r} vs {expected[at:][:40]!r}"]


def slack_sections(messages: Sequence[Message]) -> list[str]:
    return [
        block["text"]["text"]
        for message in messages
        for block in message.blocks
        if block["type"] == "section"
    ]
