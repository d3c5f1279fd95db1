"""Scheduled digests into Slack channels: the dispatcher's sender for this platform."""

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.payloads import post_message
from briefings.delivery import Outcome
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


class SlackDigestSender:
    def __init__(self, client: AsyncWebClient, renderer: Renderer) -> None:
        self._client = client
        self._renderer = renderer

    async def deliver(self, chat_key: str, reply: Reply) -> Outcome:
        """Every message in order; 429 and 5xx are already retried by the client's handlers."""
        for message in self._renderer.render(reply, "slack"):
            try:
                await self._client.chat_postMessage(**post_message(message, chat_key))
            except SlackApiError as exc:
                error = str(exc.response.get("error", ""))
                log.warning("Slack channel %s: %s", chat_key, error)
                return Outcome.BLOCKED if error in GONE else Outcome.FAILED
            except OSError as exc:
                log.warning("Slack channel %s: %s", chat_key, exc)
                return Outcome.FAILED
        return Outcome.SENT
