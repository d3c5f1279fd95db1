"""What the core needs from storage, as small Protocols named by role.

`storage/` implements them with SQLAlchemy; `fakes/memory.py` in memory for tests, benchmarks
and the console. The core imports neither: it sees only these.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal, Protocol

from briefings.languages import Lang
from briefings.schedule import Digest

ChatKind = Literal["private", "group", "channel"]


class StorageUnavailable(Exception):
    """The store cannot be reached or used right now (the database is down, refuses
    connections, or its file is gone).

    Storage raises this, never its driver's errors, so the conversation service can decide
    what still works during an outage without knowing which database is behind the port.
    """


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A conversation on one platform: a Telegram chat id, a Slack channel (or DM) id."""

    platform: str
    key: str


@dataclass(frozen=True, slots=True)
class Subscription:
    """Digests of every dated visit of the partnership, at `at` local time in `timezone`."""

    partnership: str
    at: time
    timezone: str
    # Who asked for it (a platform user id), where the platform says.
    subscriber: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryProblem:
    """The last digest that did not reach a chat for good, as `/subscriptions` shows it."""

    digest_key: str
    status: Literal["failed", "rejected"]
    at: datetime


@dataclass(frozen=True, slots=True)
class ChatState:
    """Everything the bot keeps about one chat, in one place."""

    # Chosen with /lang; None follows the asker's platform language.
    lang: Lang | None = None
    # Chosen with /visit; None follows the clock (under way, else next, else most recent).
    visit: str | None = None
    # False once the chat blocked or removed the bot; digests wait until it is back.
    reachable: bool = True
    subscription: Subscription | None = None
    # The last digest of its live subscription that never reached the chat (refused by the
    # platform, or failed every retry); None when there is none.
    problem: DeliveryProblem | None = None


class ChatStates(Protocol):
    """The chats' state: read once per update, written only by the conversation service."""

    def state(self, chat: ChatRef) -> ChatState: ...

    def set_lang(self, chat: ChatRef, lang: Lang) -> None: ...

    def set_visit(self, chat: ChatRef, visit: str | None) -> None: ...

    def set_reachable(self, chat: ChatRef, reachable: bool) -> None: ...

    def migrate(self, old: ChatRef, new_key: str) -> None:
        """The chat now has another id (a Telegram group became a supergroup): its language,
        visit, reachability and subscription move with it."""
        ...

    def subscribe(
        self, chat: ChatRef, subscription: Subscription, plan: Sequence[Digest], now: datetime
    ) -> None:
        """Create or change the chat's subscription and plan its digests still to come."""
        ...

    def unsubscribe(self, chat: ChatRef) -> bool:
        """Stop the chat's digests; whether it had a subscription."""
        ...


# --- delivering digests ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recipient:
    """Where a claimed digest goes and in which language (the chat's, read at claim time)."""

    subscription_id: int
    chat: ChatRef
    lang: Lang
    at: time
    timezone: str


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery this process now owns and must finish."""

    delivery_id: int
    digest_key: str
    due_at: datetime
    attempts: int
    recipient: Recipient
    # Leading parts of the digest already sent (a digest may be several messages): sending
    # resumes here, so a retry never repeats a part the chat has.
    parts_sent: int = 0


# `rejected`: the platform refused the digest for good (a 4xx such as "message is too long");
# trying again would only repeat the parts before it. `failed`: gave up after retries.
DeliveryStatus = Literal["pending", "sent", "failed", "rejected", "blocked", "skipped"]


@dataclass(frozen=True, slots=True)
class Settled:
    """What became of a claimed delivery: `sent`, `blocked` or `failed` at `at`, or `pending`
    again, to be tried not before `at`. `blocked` also marks the chat unreachable."""

    delivery_id: int
    status: DeliveryStatus
    at: datetime
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class PartSent:
    """Part `part` (from 0) of a claimed delivery went out: recorded at once, so that neither a
    retry nor a crash after it sends it again."""

    delivery_id: int
    part: int
    at: datetime


class DeliveryLedger(Protocol):
    """One row per (subscription, digest), and one per part sent: whoever claims a row sends
    it, once, part by part."""

    def skip_missed(self, now: datetime, grace: timedelta) -> list[str]: ...

    def claim(self, now: datetime, limit: int) -> list[Claimed]: ...

    def settle(self, outcomes: Sequence[Settled | PartSent]) -> None:
        """Write outcomes and parts sent, in one transaction; only rows this owner holds."""


# --- deliveries of one request ---------------------------------------------------------------


class SeenRequests(Protocol):
    """Platforms deliver a request again when they think it was missed (Slack's retries,
    Telegram's webhook after a 5xx or a timeout), and a second process may get the copy. Asked
    once per delivery by the adapter that received it, keyed by the platform's own identifier of
    the request (a Slack `event_id` or `trigger_id`, a Telegram `update_id`)."""

    def first_time(self, key: str) -> bool:
        """Record `key`; True for exactly one caller across every process sharing the store,
        however many deliveries race, until the record ages out (far beyond any redelivery)."""
        ...

    def first_times(self, keys: Sequence[str]) -> list[bool]:
        """`first_time` for each of `keys` at once, in one transaction (a key given twice is
        new at most the first time): the updates that come together are recorded together."""
        ...


@dataclass(frozen=True, slots=True)
class PublicLinks:
    """Where a visit's briefing book and calendar feed can be fetched, and until when."""

    book: str
    calendar: str
    until: datetime


class Publisher(Protocol):
    """Signs links to the published book and feed (the bot's HTTP server serves them)."""

    def links(self, visit: str, lang: Lang) -> PublicLinks: ...
