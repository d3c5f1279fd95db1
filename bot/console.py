"""The console adapter: the bot in a terminal or a pipe, one message per line.

Like the chat adapters it only translates: a line in, the core's reply out, rendered in the
dialect asked for. `--format telegram|slack` prints exactly what those adapters would send.
"""

import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from bot.payloads import slack_post_message, telegram_send_message
from briefings.commands import UMBRELLA, Briefing, Context, handle
from briefings.languages import Lang
from briefings.rendering import Renderer
from briefings.rendering.dialects import DialectName

Clock = Callable[[], datetime]
CONSOLE_CHAT_ID = 0
CONSOLE_CHANNEL = "console"


@dataclass
class ConsoleChat:
    briefing: Briefing
    renderer: Renderer
    clock: Clock
    lang: Lang
    dialect: DialectName = "plain"
    out: TextIO = field(default_factory=lambda: sys.stdout)

    def answer(self, line: str) -> None:
        # Slack has one slash command: the commands a reply mentions are spelled as its words.
        prefix = f"/{UMBRELLA} " if self.dialect == "slack" else "/"
        reply = handle(self.briefing, Context(self.lang, self.clock(), command_prefix=prefix), line)
        if reply.set_lang is not None:
            self.lang = reply.set_lang
        for message in self.renderer.render(reply, self.dialect):
            if self.dialect == "telegram":
                payload = telegram_send_message(message, CONSOLE_CHAT_ID)
                self.out.write(json.dumps(payload, ensure_ascii=False) + "\n")
            elif self.dialect == "slack":
                payload = slack_post_message(message, CONSOLE_CHANNEL)
                self.out.write(json.dumps(payload, ensure_ascii=False) + "\n")
            else:
                self.out.write(message.text + "\n\n")
        self.out.flush()

    def run(self, lines: Iterable[str], prompt: str | None = None) -> None:
        if prompt:
            self.out.write(prompt)
            self.out.flush()
        for line in lines:
            if line.strip():
                self.answer(line.rstrip("\n"))
            if prompt:
                self.out.write(prompt)
                self.out.flush()
