"""What the adapter reads of a typed message, from PTB's `Update` or straight from a webhook's JSON.

Nearly every update a bot gets is someone typing: a command, or text in a private chat. For each,
PTB's `Update.de_json` builds a `Message` with its chat, sender and entities, looking up every
optional field of the Bot API's Message on the way: about 120 µs of CPU on this machine, more
than the conversation service's whole answer (about 90 µs), and with PTB's dispatch the largest
single cost of an update a process answers (bench/updates.py). A webhook update whose shape is
exactly a typed message is read here instead (`read`), into the same `Said` as PTB's reading
gives (`said_of`), and the adapter answers it the way its PTB handlers would (`wanted`).

Only that shape: an update of a `message` in a private chat, a group or a supergroup, holding
text and nothing but the fields below, each of the type the Bot API gives it, every field PTB
requires present. Anything else (a button, a membership change, a migration, a channel post, a
reply, a photo, an edited message, a field of the wrong type, a field this module does not know)
is PTB's, whole: `read` returns None and the adapter parses it with `Update.de_json` as before,
so whatever PTB would refuse is still refused by PTB. Polling is PTB's throughout.
tests/adapters/test_typed_updates.py holds both readings side by side, and PTB's own handlers.
"""

from dataclasses import dataclass
from typing import Any, TypeGuard

from telegram import Update
from telegram.constants import ChatType, MessageEntityType

# The fields read or allowed, per object; the required ones are PTB's positional arguments.
_MESSAGE = frozenset({"message_id", "from", "chat", "date", "text", "entities", "sender_chat"})
_CHAT = frozenset({"id", "type", "title", "username", "first_name", "last_name", "is_forum"})
_USER = frozenset(
    {
        "id",
        "is_bot",
        "first_name",
        "last_name",
        "username",
        "language_code",
        "is_premium",
        "added_to_attachment_menu",
    }
)
_ENTITY = frozenset({"type", "offset", "length"})
_TYPED_IN = frozenset({ChatType.PRIVATE, ChatType.GROUP, ChatType.SUPERGROUP})
_STRINGS = frozenset({"title", "username", "first_name", "last_name", "language_code"})
_FLAGS = frozenset({"is_bot", "is_forum", "is_premium", "added_to_attachment_menu"})
# The last second a `datetime` holds (31 December 9999): PTB refuses a later date.
_LAST_DATE = 253_402_300_799


@dataclass(frozen=True, slots=True)
class Said:
    """Who wrote what where: all the adapter reads of a message (`text` is "" for a button)."""

    chat_id: int
    chat_type: str
    user_id: int | None
    locale: str | None
    text: str
    # The text starts with a bot command (PTB's `filters.COMMAND`).
    command: bool
    # Written as the chat itself: an anonymous admin, or a channel's own post.
    as_chat: bool


@dataclass(frozen=True, slots=True)
class Typed:
    """A webhook update read by `read`: its id and its message."""

    update_id: int
    said: Said


def wanted(said: Said) -> bool:
    """Whether the adapter's handlers take this message: in a group only commands are for the
    bot; in a private chat any text is (`filters.COMMAND`, and `filters.TEXT & ~COMMAND &
    ChatType.PRIVATE`)."""
    return bool(said.text) and (said.command or said.chat_type == ChatType.PRIVATE)


def said_of(update: Update) -> Said | None:
    """PTB's reading: the update's effective chat, sender and message; None without a chat."""
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if chat is None:
        return None
    first = message.entities[0] if message is not None and message.entities else None
    return Said(
        chat_id=chat.id,
        chat_type=chat.type,
        user_id=user.id if user is not None else None,
        locale=user.language_code if user is not None else None,
        text=(message.text or "") if message is not None else "",
        command=first is not None and _command(first.type, first.offset),
        as_chat=message is not None and message.sender_chat == chat,
    )


def read(data: dict[str, Any]) -> Typed | None:
    """A typed message's update read from its JSON; None for any other update (PTB's)."""
    if data.keys() != {"update_id", "message"} or not _int(data["update_id"]):
        return None
    message = data["message"]
    if not isinstance(message, dict) or not message.keys() <= _MESSAGE:
        return None
    chat, text, user = message.get("chat"), message.get("text"), message.get("from")
    sender, entities = message.get("sender_chat"), message.get("entities")
    date = message.get("date")
    if not _int(message.get("message_id")) or not _int(date) or not 0 <= date <= _LAST_DATE:
        return None
    if not isinstance(text, str) or not text:
        return None
    if not _object(chat, _CHAT, {"id": int, "type": str}) or chat["type"] not in _TYPED_IN:
        return None
    if user is not None and not _object(
        user, _USER, {"id": int, "first_name": str, "is_bot": bool}
    ):
        return None
    if sender is not None and not _object(sender, _CHAT, {"id": int, "type": str}):
        return None
    if entities is None:
        entities = []
    if not isinstance(entities, list) or not all(_entity(e) for e in entities):
        return None
    first = entities[0] if entities else None
    said = Said(
        chat_id=chat["id"],
        chat_type=chat["type"],
        user_id=user["id"] if user is not None else None,
        locale=user.get("language_code") if user is not None else None,
        text=text,
        command=first is not None and _command(first["type"], first["offset"]),
        as_chat=sender is not None and sender["id"] == chat["id"],
    )
    return Typed(data["update_id"], said)


def _command(kind: str, offset: int) -> bool:
    """The first entity makes the message a command (PTB's `filters.COMMAND`)."""
    return kind == MessageEntityType.BOT_COMMAND and offset == 0


def _int(value: object) -> TypeGuard[int]:
    return type(value) is int  # not a bool, which is an int to isinstance


def _object(
    value: object, allowed: frozenset[str], required: dict[str, type]
) -> TypeGuard[dict[str, Any]]:
    """A JSON object with only `allowed` fields, the `required` ones of their type, and the
    known optional strings and flags of theirs."""
    if not isinstance(value, dict) or not value.keys() <= allowed:
        return False
    if any(type(value.get(name)) is not kind for name, kind in required.items()):
        return False
    return all(
        (name not in _STRINGS or type(field) is str) and (name not in _FLAGS or type(field) is bool)
        for name, field in value.items()
        if name not in required
    )


def _entity(value: object) -> bool:
    return _object(value, _ENTITY, {"type": str, "offset": int, "length": int})
