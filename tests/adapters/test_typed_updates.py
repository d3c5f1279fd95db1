"""A typed message read straight from a webhook's JSON (bot/telegram/typed.py) is read as PTB
reads it and routed as PTB's handlers route it; every other update is left to PTB.

Each reading is held beside the real python-telegram-bot's: `Update.de_json` of the same JSON,
read by `said_of`, and the first of the adapter's own handlers whose `check_update` takes it.
"""

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import Bot, Update
from telegram.ext import BaseHandler

from bot.telegram.adapter import TelegramAdapter, lane_of
from bot.telegram.typed import read, said_of, wanted
from briefings.conversation import Conversation
from briefings.library import Library
from briefings.rendering.renderer import Renderer
from fakes.memory import MemoryChatStates
from fakes.telegram_api import (
    BOT_USERNAME,
    DEFAULT_TOKEN,
    callback_query,
    chat,
    group_message,
    message,
    my_chat_member,
    private_message,
    user,
)
from tests.dialogue import NOW

Json = dict[str, Any]
ALICE, GROUP, SUPERGROUP = 5001, -4001, -1001234567890
# The user Telegram shows as the sender of an anonymous admin's message.
ANONYMOUS_ADMIN = 1087968824


def update(body: Json, update_id: int = 7) -> Json:
    return {"update_id": update_id, **body}


def with_message(body: Json, **fields: Any) -> Json:
    """`body` (an update of a message) with fields of its message set, or removed (None)."""
    changed = copy.deepcopy(body)
    for name, value in fields.items():
        if value is None:
            changed["message"].pop(name, None)
        else:
            changed["message"][name] = value
    return changed


def anonymous(text: str, chat_id: int = GROUP) -> Json:
    """An anonymous admin's message: written as the group itself."""
    body = {"message": message(text, chat_id, user(ANONYMOUS_ADMIN))}
    return with_message(body, sender_chat=chat(chat_id))


TYPED: dict[str, Json] = {
    "private command": private_message("/itinerary day 1"),
    "private text": private_message("martedì", language_code="it"),
    "private Korean text": private_message("8월 27일 일정", language_code="ko"),
    "private text of spaces": private_message("   "),
    "private text without a language": private_message("/briefing", language_code=None),
    "group command": group_message("/itinerary tuesday"),
    "group command for this bot": group_message(f"/lang@{BOT_USERNAME} it"),
    "group command for another bot": group_message("/lang@OtherBot it"),
    "group text": group_message("martedì"),
    "supergroup command": group_message("/briefing", chat_id=SUPERGROUP),
    "anonymous admin's command": anonymous("/lang ko"),
    "a linked channel's post in its group": with_message(
        group_message("/briefing"),
        sender_chat={"id": -1009876543210, "type": "channel", "title": "Partnership news"},
    ),
    "no sender": with_message(private_message("/briefing"), **{"from": None}),
    "sender given as null": with_message(private_message("/briefing"), **{"from": "null"}),
    "entities given as null": with_message(private_message("/briefing"), entities="null"),
    "no entities": with_message(private_message("/briefing"), entities=None),
    "a command after bold text": with_message(
        private_message("**/briefing"),
        entities=[
            {"type": "bold", "offset": 0, "length": 2},
            {"type": "bot_command", "offset": 2, "length": 9},
        ],
    ),
    "a command not at the start": with_message(
        group_message("see /briefing"),
        entities=[{"type": "bot_command", "offset": 4, "length": 9}],
    ),
    "a person with every field": with_message(
        private_message("/briefing"),
        **{
            "from": {
                "id": ALICE,
                "is_bot": False,
                "first_name": "Ada",
                "last_name": "Lovelace",
                "username": "ada",
                "language_code": "ko",
                "is_premium": True,
                "added_to_attachment_menu": False,
            }
        },
    ),
}


def _nulls(body: Json) -> Json:
    """The string "null" above stands for a JSON null kept in the message (None removes the
    field)."""
    fixed = copy.deepcopy(body)
    for name, value in list(fixed["message"].items()):
        if value == "null":
            fixed["message"][name] = None
    return fixed


TYPED = {name: update(_nulls(body)) for name, body in TYPED.items()}

_private = private_message("/briefing")
PTBS: dict[str, Json] = {
    "a button": update(callback_query("day:2", on=_private["message"])),
    "a membership change": update(my_chat_member(ALICE, "member", "kicked")),
    "a channel post": update({"channel_post": message("/briefing", -1005, user(ALICE))}),
    "an edited message": update({"edited_message": _private["message"]}),
    "a group moved to a supergroup": update(
        with_message(group_message("x"), text=None, entities=None, migrate_to_chat_id=-1001)
    ),
    "a photo": update(with_message(_private, text=None, photo=[])),
    "a reply": update(with_message(_private, reply_to_message=_private["message"])),
    "a message in a topic": update(with_message(_private, message_thread_id=3)),
    "a message in a channel chat": update(
        with_message(_private, chat={"id": -1005, "type": "channel", "title": "News"})
    ),
    "empty text": update(with_message(_private, text="")),
    "text not a string": update(with_message(_private, text=5)),
    "a chat id as a string": update(with_message(_private, chat={"id": "5", "type": "private"})),
    "a chat id as a flag": update(with_message(_private, chat={"id": True, "type": "private"})),
    "an update id as a string": {"update_id": "7", **_private},
    "an update id as a flag": {"update_id": True, **_private},
    "a date as a string": update(with_message(_private, date="today")),
    "a date after the year 9999": update(with_message(_private, date=10**12)),
    "a date before 1970": update(with_message(_private, date=-5)),
    "no date": update(with_message(_private, date=None)),
    "no message id": update(with_message(_private, message_id=None)),
    "no chat": update(with_message(_private, chat=None)),
    "a sender without a first name": update(
        with_message(_private, **{"from": {"id": ALICE, "is_bot": False}})
    ),
    "a sender whose is_bot is not a flag": update(
        with_message(_private, **{"from": {"id": ALICE, "is_bot": 0, "first_name": "Ada"}})
    ),
    "a language that is not a string": update(
        with_message(
            _private,
            **{"from": {"id": ALICE, "is_bot": False, "first_name": "Ada", "language_code": 1}},
        )
    ),
    "entities not a list": update(with_message(_private, entities={"type": "bot_command"})),
    "an entity without its length": update(
        with_message(_private, entities=[{"type": "bot_command", "offset": 0}])
    ),
    "an entity with a link": update(
        with_message(
            _private,
            entities=[{"type": "text_link", "offset": 0, "length": 2, "url": "https://x.org"}],
        )
    ),
    "a field this reader does not know": update(with_message(_private, via_bot=user(9))),
    "another field beside the message": {**update(_private), "edited_message": {}},
    "a message that is not an object": {"update_id": 7, "message": [1]},
    "a sender that is not an object": update(with_message(_private, **{"from": [ALICE]})),
}


@pytest.fixture(scope="module")
def adapter(library: Library, renderer: Renderer) -> TelegramAdapter:
    """The adapter's PTB Application and its handlers; never started (nothing is sent)."""
    conversation = Conversation(library, MemoryChatStates(), lambda: NOW)
    return TelegramAdapter(
        token=DEFAULT_TOKEN,
        api_url="http://127.0.0.1:9",
        conversation=conversation,
        renderer=renderer,
    )


def ptb(data: Json) -> Update:
    return Update.de_json(copy.deepcopy(data), Bot(DEFAULT_TOKEN))


def handler_for(adapter: TelegramAdapter, parsed: Update) -> BaseHandler[Any, Any, Any] | None:
    """The handler PTB's dispatch would run: the first in the group whose check takes it."""
    for handler in adapter.application.handlers[0]:
        check = handler.check_update(parsed)
        if check is not None and check is not False:
            return handler
    return None


@pytest.mark.parametrize("name", TYPED)
def test_a_typed_message_is_read_as_ptb_reads_it(name: str) -> None:
    data = TYPED[name]
    typed = read(copy.deepcopy(data))
    assert typed is not None, name
    assert typed.update_id == data["update_id"]
    assert typed.said == said_of(ptb(data))
    assert lane_of(typed) == lane_of(ptb(data))


@pytest.mark.parametrize("name", TYPED)
def test_a_typed_message_goes_where_ptbs_handlers_send_it(
    name: str, adapter: TelegramAdapter
) -> None:
    typed = read(copy.deepcopy(TYPED[name]))
    assert typed is not None
    handler = handler_for(adapter, ptb(TYPED[name]))
    if wanted(typed.said):
        assert handler is not None
        assert handler.callback == adapter._on_message
    else:
        assert handler is None


def test_the_corpus_has_both_kinds_of_typed_message() -> None:
    """Answered and ignored, private and group, command and text: each branch is held."""
    saids = [t.said for t in map(read, TYPED.values()) if t is not None]
    assert {wanted(s) for s in saids} == {True, False}
    assert {s.command for s in saids} == {True, False}
    assert {s.as_chat for s in saids} == {True, False}
    assert {s.chat_type for s in saids} == {"private", "group", "supergroup"}


@pytest.mark.parametrize("name", PTBS)
def test_every_other_update_is_left_to_ptb(name: str) -> None:
    assert read(copy.deepcopy(PTBS[name])) is None


def _paths(value: object, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*at, index))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner, max_size=2)
    ),
    max_leaves=4,
)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_whatever_the_reader_takes_ptb_reads_alike(
    data: st.DataObject, adapter: TelegramAdapter
) -> None:
    """A typed message with one field removed or given another JSON value: the reader either
    leaves it to PTB, or reads it as PTB does, and PTB parses it without an error."""
    name = data.draw(st.sampled_from(sorted(TYPED)))
    mutated = copy.deepcopy(TYPED[name])
    path = data.draw(st.sampled_from([p for p in _paths(mutated) if p]))
    parent = mutated
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and data.draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(JSON_VALUES)
    typed = read(copy.deepcopy(mutated))
    if typed is None:
        return
    parsed = ptb(mutated)
    assert typed.said == said_of(parsed)
    handler = handler_for(adapter, parsed)
    assert (handler is not None and handler.callback == adapter._on_message) == wanted(typed.said)


def test_a_button_is_read_for_its_chat_and_presser() -> None:
    """PTB's reading serves buttons too: the chat of the message, the person who pressed (the
    text is the message's, which a button's answer does not read)."""
    pressed = ptb(
        update(callback_query("day:2", on=_private["message"], user_id=ALICE, language_code="ko"))
    )
    said = said_of(pressed)
    assert said is not None
    assert (said.chat_id, said.chat_type, said.user_id, said.locale) == (
        ALICE,
        "private",
        ALICE,
        "ko",
    )
