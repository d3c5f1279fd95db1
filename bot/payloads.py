"""Rendered messages as the exact arguments of each platform's send call.

The console's `--format telegram|slack` output and the adapters share these functions, so what
the console prints is what the adapters send.
"""

from typing import Any

from briefings.rendering.renderer import Message
from briefings.replies import Button

SELECTED = "• "


def telegram_keyboard(buttons: tuple[Button, ...]) -> dict[str, Any]:
    return {
        "inline_keyboard": [
            [
                {"text": (SELECTED if b.selected else "") + b.label, "callback_data": b.command}
                for b in buttons
            ]
        ]
    }


def telegram_send_message(message: Message, chat_id: int | str) -> dict[str, Any]:
    """The `sendMessage` parameters for one message."""
    payload: dict[str, Any] = {
        "chat_id": chat_id,
        "text": message.text,
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }
    if message.buttons:
        payload["reply_markup"] = telegram_keyboard(message.buttons)
    return payload


def slack_post_message(message: Message, channel: str) -> dict[str, Any]:
    """The `chat.postMessage` arguments for one message: mrkdwn fallback text plus blocks."""
    return {"channel": channel, "text": message.text, "blocks": list(message.blocks)}
