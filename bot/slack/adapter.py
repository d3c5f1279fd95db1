"""Slack in, the conversation service, Slack out: translation and nothing else.

The slash command, a mention, a direct message, a button and the App Home each become an
`Incoming` for the channel they happened in (a DM's channel for a DM, the App Home's channel
for the Home tab); the answer is rendered and delivered by the route that fits: the slash
command's `response_url` (private unless `share`), the channel, `chat.update` or the
`response_url` in place for a button, `views.publish` for the Home tab. Language, visit and
permissions are the service's to decide; transport (Bolt, Socket Mode, tasks) is in `transport`.
"""

import base64
import logging
from collections.abc import Collection
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.http import HttpServer
from bot.slack.locales import Locales
from bot.slack.payloads import (
    ACTION_ID,
    SHARE_ACTION,
    SHARE_PRESS,
    ResponseType,
    home_view,
    post_message,
    response_body,
    upload_file,
    with_share_button,
)
from bot.slack.text import split_share, strip_mention, unescape
from bot.slack.transport import EVENTS_PATH, SlackTransport
from briefings.conversation import Conversation, Incoming
from briefings.languages import DEFAULT_LANG
from briefings.ports import ChatKind, ChatRef, SeenRequests
from briefings.rendering.dialects import UMBRELLA
from briefings.rendering.renderer import Message, Renderer
from briefings.replies import Reply, Say
from briefings.views import notice_reply

log = logging.getLogger(__name__)

PLATFORM = "slack"
SLASH_COMMAND = f"/{UMBRELLA}"

__all__ = ["EVENTS_PATH", "PLATFORM", "SlackAdapter"]


@dataclass(frozen=True, slots=True)
class Ask:
    """What was asked and where, as Slack tells it: words typed, or a button's value."""

    channel: str
    kind: ChatKind
    words: str | None = None
    action: str | None = None


# --- where an answer goes --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResponseUrl:
    url: str
    response_type: ResponseType
    replace_original: bool = False
    # A Share button for a private answer: (its action id, its value).
    share: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Channel:
    channel: str
    thread_ts: str | None = None


@dataclass(frozen=True, slots=True)
class Update:
    """A message of ours to edit in place with `chat.update`."""

    channel: str
    ts: str


@dataclass(frozen=True, slots=True)
class Home:
    user: str
    channel: str


Destination = ResponseUrl | Channel | Update | Home


def kind_of(channel: str, channel_type: str | None = None) -> ChatKind:
    """A direct message is private; Slack's DM channel ids start with D, which is all a slash
    command or a button says of it."""
    return "private" if channel_type == "im" or channel.startswith("D") else "channel"


class SlackAdapter:
    def __init__(
        self,
        *,
        bot_token: str,
        conversation: Conversation,
        renderer: Renderer,
        api_url: str,
        seen: SeenRequests,
        signing_secret: str | None = None,
        app_token: str | None = None,
        http: HttpServer | None = None,
        teams: Collection[str] = (),
        retry_handlers: list[AsyncRetryHandler] | None = None,
        path: str = EVENTS_PATH,
    ) -> None:
        self._transport = SlackTransport(
            bot_token=bot_token,
            api_url=api_url,
            signing_secret=signing_secret,
            app_token=app_token,
            http=http,
            seen=seen,
            retry_handlers=retry_handlers,
            path=path,
        )
        self._conversation = conversation
        self._renderer = renderer
        self._teams = frozenset(teams)
        self._locales = Locales(self.client)
        self._seen = seen
        app = self._transport.app
        app.command(SLASH_COMMAND)(self._on_command)
        app.event("app_mention")(self._on_mention)
        app.event("message")(self._on_message)
        app.event("app_home_opened")(self._on_home)
        app.action(ACTION_ID)(self._on_button)
        app.action(SHARE_ACTION)(self._on_share)
        app.action(SHARE_PRESS)(self._on_share)

    @property
    def client(self) -> AsyncWebClient:
        return self._transport.client

    @property
    def mode(self) -> Literal["socket", "http"]:
        return self._transport.mode

    async def start(self) -> None:
        await self._transport.start()

    async def stop(self) -> None:
        await self._transport.stop()

    # --- Slack request -> Ask and destination ----------------------------------------------------

    async def _on_command(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        words, share = split_share(unescape(str(body.get("text", ""))))
        url, channel = body.get("response_url"), str(body.get("channel_id", ""))
        if url:
            destination = ResponseUrl(
                url,
                "in_channel" if share else "ephemeral",
                share=None if share else (SHARE_ACTION, words),
            )
            await self._answer(context, Ask(channel, kind_of(channel), words=words), destination)

    async def _on_mention(
        self, ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        await self._answer_in_channel(event, context)

    async def _on_message(
        self, ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        """Direct messages only; edits, joins and bots' messages are not questions."""
        await ack()
        if event.get("channel_type") == "im" and not (event.get("subtype") or event.get("bot_id")):
            await self._answer_in_channel(event, context)

    async def _answer_in_channel(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        """A mention or a DM: answered where it was asked, in its thread, once. A DM that
        mentions the bot comes as two events (two event ids) for one message, perhaps to two
        processes: the message itself is the key."""
        channel = str(event.get("channel", ""))
        if not self._transport.first_time(f"slack:message:{channel}:{event.get('ts')}"):
            return
        words = unescape(strip_mention(str(event.get("text", "")), context.bot_user_id))
        ask = Ask(channel, kind_of(channel, event.get("channel_type")), words=words)
        await self._answer(context, ask, Channel(channel, event.get("thread_ts")))

    async def _on_home(
        self, ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        user, channel = event.get("user"), str(event.get("channel", ""))
        if event.get("tab") == "home" and user:
            await self._answer(context, Ask(channel, "private", words=""), Home(user, channel))

    async def _on_button(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        """One of our buttons: the message (or the Home tab) it sits on shows the answer."""
        await ack()
        value = str(action.get("value", ""))
        container = body.get("container") or {}
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        destination: Destination
        if container.get("type") == "view":
            user = context.user_id or body["user"]["id"]
            # A Home published before it kept its channel: the user's own chat stands in.
            channel = (body.get("view") or {}).get("private_metadata") or user
            destination = Home(user, channel)
        elif body.get("response_url"):
            ephemeral = bool(container.get("is_ephemeral"))
            kind: ResponseType = "ephemeral" if ephemeral else "in_channel"
            share = (SHARE_PRESS, value) if ephemeral else None
            destination = ResponseUrl(body["response_url"], kind, True, share)
        elif channel and container.get("message_ts"):
            destination = Update(channel, container["message_ts"])
        else:
            return
        await self._answer(context, Ask(channel, kind_of(channel), action=value), destination)

    async def _on_share(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        """Post the answer to the channel afresh, then remove the private copy it came from."""
        await ack()
        url = body.get("response_url")
        channel = str((body.get("container") or {}).get("channel_id") or "")
        if url:
            value = str(action.get("value", ""))
            pressed = action.get("action_id") == SHARE_PRESS
            ask = Ask(
                channel, kind_of(channel), None if pressed else value, value if pressed else None
            )
            await self._answer(context, ask, ResponseUrl(url, "in_channel"), delete_original=True)

    # --- Ask -> conversation -> Slack calls ------------------------------------------------------

    async def _answer(
        self,
        context: AsyncBoltContext,
        ask: Ask,
        destination: Destination,
        *,
        delete_original: bool = False,
    ) -> None:
        await self._transport.spawn(
            ask.channel,
            self._reply(context, ask, destination, delete_original),
            context.get("request_key"),
        )

    async def _reply(
        self, context: AsyncBoltContext, ask: Ask, destination: Destination, delete_original: bool
    ) -> None:
        team = context.actor_team_id or context.team_id
        user = context.user_id
        reply: Reply
        # In a shared channel the actor's own workspace is the one that must be allowed.
        if self._teams and team not in self._teams:
            log.info("refused Slack team %s", team)
            reply = notice_reply(Say("workspace_not_allowed"), DEFAULT_LANG)
            if isinstance(destination, ResponseUrl):  # private, and nothing to share
                replace = destination.replace_original
                kind = destination.response_type if replace else "ephemeral"
                destination = ResponseUrl(destination.url, kind, replace)
        else:
            incoming = Incoming(
                chat=ChatRef(PLATFORM, ask.channel),
                kind=ask.kind,
                user=user,
                locale=await self._locales.locale(user) if user else None,
                text=ask.words,
                words=ask.words is not None,
                action=ask.action,
                is_admin=partial(self._locales.is_admin, user) if user else _nobody,
            )
            reply = (await self._conversation.handle(incoming)).reply
        await self._deliver(destination, reply, ask.channel)
        if delete_original and isinstance(destination, ResponseUrl):
            await self._transport.webhook(destination.url).send_dict({"delete_original": True})

    async def _deliver(self, destination: Destination, reply: Reply, channel: str = "") -> None:
        messages: list[Message] = self._renderer.render(reply, "slack")
        if isinstance(destination, Home):
            view = home_view([m for m in messages if m.attachment is None], destination.channel)
            await self.client.views_publish(user_id=destination.user, view=view)
            return
        for n, message in enumerate(messages):
            first, last = n == 0, n == len(messages) - 1
            if message.attachment is not None:
                # A response_url carries no files: the file goes to the channel or DM itself.
                thread = destination.thread_ts if isinstance(destination, Channel) else None
                await self._upload(message, channel or getattr(destination, "channel", ""), thread)
            elif isinstance(destination, ResponseUrl):
                replace = destination.replace_original and first
                body = response_body(message, destination.response_type, replace_original=replace)
                if destination.share is not None and last:
                    action_id, value = destination.share
                    body = with_share_button(body, value, reply.lang, action_id=action_id)
                response = await self._transport.webhook(destination.url).send_dict(body)
                if response.status_code != 200:
                    log.error("response_url refused the reply: %s", response.status_code)
            elif isinstance(destination, Update) and first:
                args = post_message(message, destination.channel)
                await self.client.chat_update(**args, ts=destination.ts)
            else:
                thread = destination.thread_ts if isinstance(destination, Channel) else None
                await self.client.chat_postMessage(
                    **post_message(message, destination.channel, thread)
                )

    async def _upload(self, message: Message, channel: str, thread_ts: str | None) -> None:
        """Slack's external upload flow, as `files_upload_v2` runs it: ask for an upload URL,
        upload the bytes, complete the upload into the channel with the caption."""
        args = upload_file(message, channel, thread_ts)
        document = args["document"]
        try:
            await self.client.files_upload_v2(
                content=base64.b64decode(document["base64"]),
                filename=document["filename"],
                title=args["title"],
                channel=args["channel"],
                initial_comment=args["initial_comment"],
                thread_ts=args.get("thread_ts"),
            )
        except SlackApiError as exc:
            # Typically not_in_channel: a private channel the app was not added to.
            log.error("file upload to %s refused: %s", channel, exc.response.get("error"))


async def _nobody() -> bool:
    return False
