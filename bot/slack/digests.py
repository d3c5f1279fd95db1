"""Scheduled digests into Slack channels: the dispatcher's sender for this platform."""

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.payloads import post_message
from briefings.delivery import Outcome, Parts
from briefings.rendering.renderer import Renderer
from briefings.replies import Reply

log = logging.getLogger(__name__)

# Errors that mean the channel will not hear us until someone acts: pause, do not retry.
GONE = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "account_inactive",
        "invalid_auth",
        "token_revoked",
        "team_access_not_granted",
    }
)
# Errors that mean this message will never be taken as it is: final for this digest and chat.
# (Rate limits and server errors are retried by the client's handlers, then retried later.)
REFUSED = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
        "invalid_attachments",
        "invalid_arguments",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "cannot_reply_to_message",
        "as_user_not_supported",
        "slack_connect_file_link_sharing_blocked",
    }
)


class SlackDigestSender:
    def __init__(self, client: AsyncWebClient, renderer: Renderer) -> None:
        self._client = client
        self._renderer = renderer

    async def deliver(self, chat_key: str, reply: Reply, parts: Parts | None = None) -> Outcome:
        """Every message from `parts.first` on, in order, each reported once it went out; 429
        and 5xx are already retried by the client's handlers."""
        parts = parts or Parts()  # a caller that keeps no record: every part
        messages = self._renderer.render(reply, "slack")
        total = len(messages)
        for part in range(parts.first, total):
            try:
                await self._client.chat_postMessage(**post_message(messages[part], chat_key))
            except SlackApiError as exc:
                error = str(exc.response.get("error", "")) or f"HTTP {exc.response.status_code}"
                log.warning("Slack channel %s: %s", chat_key, error)
                parts.refused(part, total, error)
                if error in GONE:
                    return Outcome.BLOCKED
                return Outcome.REJECTED if error in REFUSED else Outcome.FAILED
            except OSError as exc:
                log.warning("Slack channel %s: %s", chat_key, exc)
                parts.refused(part, total, str(exc) or type(exc).__name__)
                return Outcome.FAILED
            await parts.sent(part, total)
        return Outcome.SENT
