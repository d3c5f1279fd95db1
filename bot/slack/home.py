"""The App Home tab: the reply's messages as one view, which may hold twice a message's blocks."""

from typing import Any

from briefings.rendering.renderer import Message

HOME_MAX_BLOCKS = 100


def home_view(messages: list[Message]) -> dict[str, Any]:
    """One `home` view from every message of a reply, the day buttons kept at the end.

    Past Slack's limit the sections are cut, never the buttons: a shorter Home still works,
    a Home without its buttons is a dead end.
    """
    blocks = [block for message in messages for block in message.blocks]
    if len(blocks) > HOME_MAX_BLOCKS:
        last = blocks[-1]
        if last.get("type") == "actions":
            blocks = [*blocks[: HOME_MAX_BLOCKS - 1], last]
        else:
            blocks = blocks[:HOME_MAX_BLOCKS]
    return {"type": "home", "blocks": blocks}
