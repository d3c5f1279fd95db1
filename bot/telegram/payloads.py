"""Rendered messages as Telegram Bot API parameters: `sendMessage`, `editMessageText`, buttons.

The console's `--format telegram` and the adapter share these functions, so what the console
prints is what the adapter sends.
"""

import base64
from typing import Any

from briefings.actions import encode
from briefings.rendering.renderer import Message
from briefings.replies import Button

SELECTED = "• "
# Buttons per keyboard row: a phone shows four short labels side by side.
ROW = 4


def keyboard(buttons: tuple[Button, ...]) -> dict[str, Any]:
    keys = [
        {"text": (SELECTED if b.selected else "") + b.label, "callback_data": encode(b.action)}
        for b in buttons
    ]
    return {"inline_keyboard": [keys[i : i + ROW] for i in range(0, len(keys), ROW)]}


def send_message(message: Message, chat_id: int | str) -> dict[str, Any]:
    """The `sendMessage` parameters for one message."""
    payload: dict[str, Any] = {
        "chat_id": chat_id,
        "text": message.text,
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }
    if message.buttons:
        payload["reply_markup"] = keyboard(message.buttons)
    return payload


def send_document(message: Message, chat_id: int | str) -> dict[str, Any]:
    """The `sendDocument` parameters for a message that carries a file: the file as the
    console contract spells it (`document`: filename, MIME type, base64), its caption in HTML."""
    attachment = message.attachment
    if attachment is None:
        raise ValueError("a document needs an attachment")
    return {
        "method": "sendDocument",
        "chat_id": chat_id,
        "caption": message.text,
        "parse_mode": "HTML",
        "document": {
            "filename": attachment.filename,
            "mime_type": attachment.mime_type,
            "base64": base64.b64encode(attachment.content).decode("ascii"),
        },
    }
