"""The conversation service: the one entry point of every adapter (Telegram, Slack, console).

An adapter translates a platform event into an `Incoming` and the `Answer` back into platform
calls; everything in between is decided here, once: the language (the chat's choice, else the
asker's platform language, else the default), the visit (the chat's choice, else the clock's),
who may change a shared chat's settings, and what is persisted.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from briefings.actions import Action
from briefings.commands import (
    Effect,
    Scope,
    SetLang,
    SetVisit,
    Subscribe,
    Unsubscribe,
    answer,
    show,
)
from briefings.dossier import Visit
from briefings.languages import DEFAULT_LANG, Lang, lang_or_default
from briefings.library import Library
from briefings.ports import (
    ChatKind,
    ChatRef,
    ChatState,
    ChatStates,
    Publisher,
    StorageUnavailable,
    Subscription,
)
from briefings.replies import Reply, Say
from briefings.views import notice_reply

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# Asked only when a shared chat's settings would change (Telegram: getChatMember).
AdminCheck = Callable[[], Awaitable[bool]]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Incoming:
    """One thing a person did: typed text, or pressed a button (its payload, not yet trusted)."""

    chat: ChatRef
    kind: ChatKind = "private"
    user: str | None = None
    # The platform's language tag for the user (`it`, `ko-KR`), where it gives one.
    locale: str | None = None
    text: str | None = None
    # Text addressed to the bot without a slash: Slack's slash command, a mention, a DM.
    words: bool = False
    action: str | None = None
    is_admin: AdminCheck | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Answer:
    reply: Reply
    # A button's answer replaces the message the button sits on.
    in_place: bool = False


class Conversation:
    def __init__(
        self,
        library: Library,
        states: ChatStates,
        clock: Clock,
        *,
        default_lang: Lang = DEFAULT_LANG,
        persistent: bool = True,
        publisher: Publisher | None = None,
    ) -> None:
        self._library = library
        self._states = states
        self._clock = clock
        self._default_lang = default_lang
        # The console keeps state for a session only and cannot receive digests.
        self._persistent = persistent
        # Links to the book and calendar feed, when the bot serves them (BRIEFINGS_PUBLIC_URL).
        self._publisher = publisher

    @property
    def library(self) -> Library:
        return self._library

    async def handle(self, incoming: Incoming) -> Answer:
        """Answer one message or button press. Never raises on what a user sent, nor when
        storage is down: reading needs no storage (a chat's unreadable state falls back to the
        defaults), and what would change or report stored settings apologises instead."""
        try:
            state, stored = self._states.state(incoming.chat), True
        except StorageUnavailable as exc:
            log.warning("chat state unavailable, answering with the defaults: %s", exc)
            state, stored = ChatState(), False
        if not state.reachable:
            # The chat wrote to us, so it can hear us again: its digests resume.
            self._quietly(self._states.set_reachable, incoming.chat, True)
        scope = self._scope(incoming, state, stored)
        if incoming.action is not None:
            return Answer(self._press(scope, incoming.action), in_place=True)
        outcome = answer(scope, incoming.text or "", words=incoming.words)
        if outcome.effects:
            if not stored:
                return Answer(_storage_unavailable(scope.lang))
            refusal = await self._refusal(incoming, state)
            if refusal is not None:
                # Said to one person about their own request: in their language where the
                # platform tells it, whatever the chat's.
                lang = lang_or_default(incoming.locale, scope.lang)
                return Answer(notice_reply(refusal, lang))
            try:
                self._apply(incoming, scope, outcome.effects)
            except StorageUnavailable as exc:
                # Storage went down between the read and the write: the change did not happen
                # (each write is one transaction), so the confirmation would be untrue.
                log.warning("chat settings not saved: %s", exc)
                return Answer(_storage_unavailable(scope.lang))
        return Answer(outcome.reply)

    # --- what the platform tells us about a chat ------------------------------------------------

    # During a storage outage these facts are logged and lost; each recurs (the next send to a
    # chat that blocked the bot fails again, Telegram names a group's new id at every send).

    def chat_gone(self, chat: ChatRef) -> None:
        """The chat blocked or removed the bot: digests wait until it is back."""
        self._quietly(self._states.set_reachable, chat, False)

    def chat_back(self, chat: ChatRef) -> None:
        self._quietly(self._states.set_reachable, chat, True)

    def chat_moved(self, chat: ChatRef, new_key: str) -> None:
        """A Telegram group became a supergroup: everything follows it to the new id."""
        self._quietly(self._states.migrate, chat, new_key)

    def _quietly(self, write: Callable[[ChatRef, _T], object], chat: ChatRef, value: _T) -> None:
        """A write the user did not ask for: an outage must not cost them their answer."""
        try:
            write(chat, value)
        except StorageUnavailable as exc:
            log.warning("could not record %s for %s: %s", write.__name__, chat, exc)

    # --- policy -----------------------------------------------------------------------------

    def language(self, incoming: Incoming, state: ChatState) -> Lang:
        return state.lang or lang_or_default(incoming.locale, self._default_lang)

    def visit(self, state: ChatState, now: datetime) -> Visit:
        """The chat's chosen visit while the seeds still have it, else the clock's."""
        return self._library.visit(state.visit) or self._library.current(now)

    def _scope(self, incoming: Incoming, state: ChatState, stored: bool = True) -> Scope:
        now = self._clock()
        return Scope(
            library=self._library,
            visit=self.visit(state, now),
            lang=self.language(incoming, state),
            now=now,
            state=state,
            private=incoming.kind == "private",
            persistent=self._persistent,
            stored=stored,
            publisher=self._publisher,
        )

    def _press(self, scope: Scope, payload: str) -> Reply:
        action = self._library.codec.decode(payload)
        if action is None:
            log.info("stale or forged button payload (%d characters)", len(payload))
            current = show(scope, Action("briefing", scope.visit.id))
            return notice_reply(
                Say("action_stale"), scope.lang, visit=scope.visit, buttons=current.buttons
            )
        return show(scope, action)

    async def _refusal(self, incoming: Incoming, state: ChatState) -> Say | None:
        """Why this person may not change the chat's settings, or None when they may.

        Private chats change their own settings; a group's or channel's are its admins' (and, for
        a subscription, its subscriber's) to change. When the platform cannot be asked, the
        settings stay as they are: refusing is the safe answer, and the person is told to try
        again rather than that they lack a right they may well have."""
        if incoming.kind == "private":
            return None
        subscriber = state.subscription.subscriber if state.subscription else None
        if subscriber is not None and subscriber == incoming.user:
            return None
        if incoming.is_admin is None:
            # No way to ask the platform: a shared chat's settings stay as they are.
            return Say("admins_only")
        try:
            admin = await incoming.is_admin()
        except Exception:
            log.warning("could not check whether %s may change %s", incoming.user, incoming.chat)
            return Say("admin_check_failed")
        return None if admin else Say("admins_only")

    def _apply(self, incoming: Incoming, scope: Scope, effects: tuple[Effect, ...]) -> None:
        chat = incoming.chat
        for effect in effects:
            if isinstance(effect, SetLang):
                self._states.set_lang(chat, effect.lang)
            elif isinstance(effect, SetVisit):
                self._states.set_visit(chat, effect.visit)
            elif isinstance(effect, Subscribe):
                if scope.state.lang is None:
                    # Digests go out in the language the chat is answered in now; /lang later
                    # changes both at once.
                    self._states.set_lang(chat, scope.lang)
                subscription = Subscription(
                    effect.partnership, effect.at, effect.timezone, incoming.user
                )
                plan = self._library.plan(effect.partnership)
                self._states.subscribe(chat, subscription, plan, scope.now)
            elif isinstance(effect, Unsubscribe):
                self._states.unsubscribe(chat)


def _storage_unavailable(lang: Lang) -> Reply:
    return notice_reply(Say("storage_unavailable"), lang)
