"""Rendered messages as Slack Web API arguments: Block Kit sections, buttons, response bodies,
the App Home view. The one place Block Kit is built.

The console's `--format slack` and the adapter share these functions, so what the console prints
is what the adapter sends; each route adds only what it needs (a thread, a response type, a Share
button). Buttons carry the core's encoded action as their `value`; their `action_id`s only need
to be unique in the message and recognisable as ours.
"""

import base64
import re
from typing import Any, Final, Literal

from briefings.actions import encode
from briefings.labels import label
from briefings.languages import Lang
from briefings.rendering.renderer import SLACK_MAX_BLOCKS, Message
from briefings.replies import Button

ResponseType = Literal["ephemeral", "in_channel"]
# Every button of ours; the adapter listens for these and passes the value on, undecoded.
ACTION_ID: Final = re.compile(r"^go_\d+$")
# Share buttons: one asks again for words the user typed, the other for a button's action.
SHARE_ACTION: Final = "share"
SHARE_PRESS: Final = "share_press"
# Slack's limits on a button: its label and its value.
LABEL_LIMIT: Final = 75
VALUE_LIMIT: Final = 2000
# A Home tab holds twice a message's blocks.
HOME_MAX_BLOCKS: Final = 100


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


def with_share_button(
    body: dict[str, Any], value: str, lang: Lang, *, action_id: str = SHARE_ACTION
) -> dict[str, Any]:
    """Add a Share button to an ephemeral reply, if Slack's block limit leaves room.

    Its value is what produced the reply (the words typed, or with `SHARE_PRESS` the button's
    action), so pressing it asks the same question again for the channel, answered afresh
    rather than copied from the user's private view.
    """
    current: list[dict[str, Any]] = list(body.get("blocks", []))
    if len(current) >= SLACK_MAX_BLOCKS or len(value) > VALUE_LIMIT:
        return body
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": label("share_in_channel", lang)},
        "action_id": action_id,
        "value": value,
    }
    current.append({"type": "actions", "block_id": SHARE_ACTION, "elements": [button]})
    return {**body, "blocks": current}


def home_view(messages: list[Message], channel: str) -> dict[str, Any]:
    """One `home` view from every message of a reply, the buttons kept at the end.

    Past Slack's limit the sections are cut, never the buttons: a shorter Home still works, a
    Home without its buttons is a dead end. `private_metadata` keeps the App Home's channel,
    which Slack leaves out of a Home button's payload: the press is answered in that chat.
    """
    shown = [block for message in messages for block in blocks(message)]
    if len(shown) > HOME_MAX_BLOCKS:
        last = shown[-1]
        keep = [last] if last.get("type") == "actions" else []
        shown = [*shown[: HOME_MAX_BLOCKS - len(keep)], *keep]
    return {"type": "home", "private_metadata": channel, "blocks": shown}


def upload_file(message: Message, channel: str, thread_ts: str | None = None) -> dict[str, Any]:
    """A file for the channel, as `files_upload_v2` takes it (the external upload flow:
    files.getUploadURLExternal, the upload, files.completeUploadExternal), its caption as the
    initial comment. `document` is spelled as in the console contract; the adapter decodes it."""
    attachment = message.attachment
    if attachment is None:
        raise ValueError("an upload needs an attachment")
    payload: dict[str, Any] = {
        "method": "files.uploadV2",
        "channel": channel,
        "initial_comment": message.text,
        "title": attachment.filename,
        "document": {
            "filename": attachment.filename,
            "mime_type": attachment.mime_type,
            "base64": base64.b64encode(attachment.content).decode("ascii"),
        },
    }
    if thread_ts:
        payload["thread_ts"] = thread_ts
    return payload
