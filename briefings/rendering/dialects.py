"""Dialects, not platforms: how plain text, Telegram HTML and Slack mrkdwn spell the same reply.

Escaping happens here and only here. Every value a template prints passes through the dialect's
`escape` unless a dialect helper already produced it as `Markup`; templates never escape by hand.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

DialectName = Literal["plain", "telegram", "slack"]

# Slack's one slash command; every other command is its first word.
UMBRELLA = "briefing"

# Separates items (the units a long reply may be split between) in a template's output. It is a
# control character, so `clean` removes it from any value: data can never forge a split.
ITEM_BREAK = "\x1e"

# C0/C1 controls except newline, plus the bidirectional overrides that can disguise text.
_UNSAFE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class Markup(str):
    """Text already spelled in a dialect's markup; the template finalizer lets it through."""

    __slots__ = ()


def clean(text: str) -> str:
    return _UNSAFE.sub(lambda m: " " if m.group() == "\t" else "", text)


def _escape_angle_amp(text: str) -> str:
    # Telegram HTML and Slack mrkdwn both need exactly these three; an HTML escaper's &#39;
    # would show literally in Slack.
    return clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class Dialect:
    name: DialectName
    escape: Callable[[str], str]
    bold_format: str
    italic_format: str
    # The most one message (Telegram, plain) or one section block (Slack) may hold.
    limit: int
    measure: Callable[[str], int]
    # How a command is typed on the platform: Slack has one slash command, the others' words.
    command_format: str = "/{}"

    def command(self, name: str) -> str:
        # Slack's umbrella is itself the briefing: `/briefing`, not `/briefing briefing`.
        return f"/{name}" if name == UMBRELLA else self.command_format.format(name)

    def bold(self, text: str) -> Markup:
        return Markup(self.bold_format.format(self.escape(text)))

    def italic(self, text: str) -> Markup:
        return Markup(self.italic_format.format(self.escape(text)))


PLAIN = Dialect("plain", clean, "{}", "{}", 4096, len)
# Counting the markup too keeps every message under Telegram's limit on the parsed text.
TELEGRAM = Dialect("telegram", _escape_angle_amp, "<b>{}</b>", "<i>{}</i>", 4096, utf16_length)
SLACK = Dialect(
    "slack", _escape_angle_amp, "*{}*", "_{}_", 3000, len, command_format=f"/{UMBRELLA} {{}}"
)

DIALECTS: dict[DialectName, Dialect] = {d.name: d for d in (PLAIN, TELEGRAM, SLACK)}
