"""Rendered messages as the bodies Slack's routes take.

Each starts from `bot.payloads.slack_post_message`, the console's contract, and adds only what
its route needs: a response type for a `response_url`, a thread, a Share button.
"""

from typing import Any, Literal

from bot.payloads import slack_post_message
from briefings.labels import label
from briefings.languages import Lang
from briefings.rendering import SLACK_MAX_BLOCKS, Message

ResponseType = Literal["ephemeral", "in_channel"]
SHARE_ACTION = "share"
SHARE_BLOCK = "share"
# Slack's limit on a button's value; commands are far shorter, this only guards the edge.
VALUE_LIMIT = 2000


def post_message(message: Message, channel: str, thread_ts: str | None = None) -> dict[str, Any]:
    """`chat.postMessage` arguments; a reply to a message in a thread stays in that thread."""
    payload = slack_post_message(message, channel)
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
    body = {k: v for k, v in slack_post_message(message, "").items() if k != "channel"}
    if replace_original:
        body["replace_original"] = True
    else:
        body["response_type"] = response_type
        body["replace_original"] = False
    return body


def with_share_button(body: dict[str, Any], command: str, lang: Lang) -> dict[str, Any]:
    """Add a Share button to an ephemeral reply, if Slack's block limit leaves room.

    Its value is the command that produced the reply, so pressing it posts the same answer to
    the channel, computed afresh for the channel rather than copied from the user's view.
    """
    blocks: list[dict[str, Any]] = list(body.get("blocks", []))
    if len(blocks) >= SLACK_MAX_BLOCKS or len(command) > VALUE_LIMIT:
        return body
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": label("share_in_channel", lang)},
        "action_id": SHARE_ACTION,
        "value": command,
    }
    blocks.append({"type": "actions", "block_id": SHARE_BLOCK, "elements": [button]})
    return {**body, "blocks": blocks}
