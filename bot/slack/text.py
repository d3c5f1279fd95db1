"""Slack's conventions undone on the way in, so the core reads text as the user typed it."""

import re

SHARE_WORD = "share"
_LEADING_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


def unescape(text: str) -> str:
    """Slack sends `& < >` as entities; the renderer escapes again on the way out.

    Undone once, in this order, so `&amp;lt;` (a user who typed `&lt;`) stays `&lt;`.
    """
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def strip_mention(text: str, bot_user_id: str | None) -> str:
    """`<@U0BOT> itinerary tuesday` -> `itinerary tuesday`.

    Only the bot's own mention goes: any other `<@U…>` stays as text, which the renderer
    escapes, so quoting a colleague never pings them.
    """
    if bot_user_id:
        pattern = re.compile(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>")
        text = pattern.sub(" ", text)
    else:  # before Bolt knows who we are, the leading mention is the one addressed to us
        text = _LEADING_MENTION.sub(" ", text, count=1)
    return " ".join(text.split())


def split_share(text: str) -> tuple[str, bool]:
    """`/briefing itinerary tuesday share`: the last word asks to post in the channel."""
    words = text.split()
    if words and words[-1].casefold() == SHARE_WORD:
        return " ".join(words[:-1]), True
    return " ".join(words), False
