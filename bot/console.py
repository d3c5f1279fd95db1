"""The console adapter: the bot in a terminal or a pipe, one message per line.

Like the chat adapters it only translates: a line in, the conversation service's answer out,
rendered in the dialect asked for. `--format telegram|slack` prints exactly what those adapters
would send. Its chat state (language, chosen visit) lasts for the session.
"""

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

from briefings.conversation import Conversation, Incoming
from briefings.languages import Lang
from briefings.ports import ChatRef
from briefings.rendering.dialects import DialectName
from briefings.rendering.renderer import Message, Renderer

CONSOLE_CHAT_ID = 0
CONSOLE_CHANNEL = "console"


def print_messages(messages: list[Message], dialect: DialectName, out: TextIO) -> None:
    """Each message as text, or as the exact send-call arguments of that platform."""
    for message in messages:
        attachment = message.attachment
        if dialect == "telegram":
            from bot.telegram.payloads import send_document, send_message

            payload = (send_document if attachment else send_message)(message, CONSOLE_CHAT_ID)
            out.write(json.dumps(payload, ensure_ascii=False) + "\n")
        elif dialect == "slack":
            from bot.slack.payloads import post_message, upload_file

            payload = (upload_file if attachment else post_message)(message, CONSOLE_CHANNEL)
            out.write(json.dumps(payload, ensure_ascii=False) + "\n")
        elif attachment is not None:
            size = len(attachment.content)
            out.write(
                f"{message.text}\n[{attachment.filename}, {attachment.mime_type}, {size} bytes]\n\n"
            )
        else:
            out.write(message.text + "\n\n")
    out.flush()


@dataclass
class ConsoleChat:
    conversation: Conversation
    renderer: Renderer
    lang: Lang | None = None
    dialect: DialectName = "plain"
    out: TextIO = field(default_factory=lambda: sys.stdout)

    @property
    def chat(self) -> ChatRef:
        return ChatRef("console", str(CONSOLE_CHAT_ID))

    async def answer(self, line: str) -> None:
        await self._show(Incoming(self.chat, "private", "console", self.lang, text=line))

    async def press(self, payload: str) -> None:
        """A button's payload, as a platform would hand it back (tests drive buttons here)."""
        await self._show(Incoming(self.chat, "private", "console", self.lang, action=payload))

    async def _show(self, incoming: Incoming) -> None:
        reply = (await self.conversation.handle(incoming)).reply
        print_messages(self.renderer.render(reply, self.dialect), self.dialect, self.out)

    async def run(self, lines: Iterable[str], prompt: str | None = None) -> None:
        if prompt:
            self.out.write(prompt)
            self.out.flush()
        for line in lines:
            if line.strip():
                await self.answer(line.rstrip("\n"))
            if prompt:
                self.out.write(prompt)
                self.out.flush()
