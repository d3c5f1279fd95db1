"""Rendered messages as Slack Web API arguments: Block Kit sections, buttons, response bodies.

The console's `--format slack` and the adapter share these functions, so what the console prints
is what the adapter sends. Buttons carry the core's encoded action as their `value`; their
`action_id`s only need to be unique in the message and recognisable as ours.
"""

import re
from typing import Any, Final, Literal

from briefings.actions import encode
from briefings.labels import label
from briefings.languages import Lang
from briefings.rendering.renderer import SLACK_MAX_BLOCKS, Message
from briefings.replies import Button

ResponseType = Literal["ephemeral", "in_channel"]
# Every button of ours; the adapter listens for these and decodes the value.
ACTION_ID: Final = re.compile(r"^go_\d+$")
SHARE_ACTION: Final = "share"
# Slack's limits on a button: its label and its value.
LABEL_LIMIT: Final = 75
VALUE_LIMIT: Final = 2000


def actions_block(buttons: tuple[Button, ...]) -> dict[str, Any]:
    elements: list[dict[str, Any]] = []
    for n, button in enumerate(buttons):
        element: dict[str, Any] = {
            "type": "button",
            "text": {"type": "plain_text", "text": button.label[:LABEL_LIMIT]},
            "action_id": f"go_{n}",
            "value": encode(button.action),
        }
        if button.selected:
            element["style"] = "primary"
        elements.append(element)
    return {"type": "actions", "block_id": "go", "elements": elements}


def blocks(message: Message) -> list[dict[str, Any]]:
    sections: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": s}} for s in message.sections
    ]
    if message.buttons:
        sections.append(actions_block(message.buttons))
    return sections


def post_message(message: Message, channel: str, thread_ts: str | None = None) -> dict[str, Any]:
    """`chat.postMessage` arguments: mrkdwn fallback text plus blocks; a reply to a message in
    a thread stays in that thread."""
    payload: dict[str, Any] = {"channel": channel, "text": message.text, "blocks": blocks(message)}
    if thread_ts:
        payload["thread_ts"] = thread_ts
    return payload


def response_body(
    message: Message, response_type: ResponseType, *, replace_original: bool = False
) -> dict[str, Any]:
    """A body for a `response_url`: the same text and blocks, without a channel.

    Replacing says only `replace_original`: the message keeps its visibility. A new message
    says whether it is ephemeral and that it must not replace the one it answers.
    """
    body: dict[str, Any] = {"text": message.text, "blocks": blocks(message)}
    if replace_original:
        body["replace_original"] = True
    else:
        body["response_type"] = response_type
        body["replace_original"] = False
    return body


def with_share_button(body: dict[str, Any], words: str, lang: Lang) -> dict[str, Any]:
    """Add a Share button to an ephemeral reply, if Slack's block limit leaves room.

    Its value is what the user typed, so pressing it asks the same question again for the
    channel, answered afresh rather than copied from the user's private view.
    """
    current: list[dict[str, Any]] = list(body.get("blocks", []))
    if len(current) >= SLACK_MAX_BLOCKS or len(words) > VALUE_LIMIT:
        return body
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": label("share_in_channel", lang)},
        "action_id": SHARE_ACTION,
        "value": words,
    }
    current.append({"type": "actions", "block_id": SHARE_ACTION, "elements": [button]})
    return {**body, "blocks": current}
