"""A fake Telegram Bot API server on 127.0.0.1, for the real python-telegram-bot to talk to.

It records every request (method, decoded parameters, headers) in order, so that tests assert on
what Telegram would have received; it can be told to fail (429, 403, 5xx, a migrated group); and,
when the Bot API reference is beside the project, it checks every request against it.
"""

import asyncio
import contextlib
import itertools
import json
import math
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

DEFAULT_TOKEN = "123456:TEST-token-for-the-fake"  # noqa: S105 - a made-up token for tests
BOT_ID = 777000111
BOT_USERNAME = "BriefingsBot"
# However long a client asks to long-poll, answer within this: keeps a stuck test short.
MAX_LONG_POLL = 5.0

Json = dict[str, Any]


# --- canned errors, as Telegram words them ----------------------------------------------------


def error(code: int, description: str, **parameters: Any) -> Json:
    body: Json = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def too_many_requests(retry_after: int = 1) -> Json:
    return error(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


def blocked_by_user() -> Json:
    return error(403, "Forbidden: bot was blocked by the user")


def server_error() -> Json:
    return error(500, "Internal Server Error")


def dropped_connection() -> Json:
    """Not an answer: the connection closes before any response, as a network failure does."""
    return {"ok": False, "error_code": 0, "description": "connection dropped", "drop": True}


def migrated_to(new_chat_id: int) -> Json:
    return error(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        migrate_to_chat_id=new_chat_id,
    )


# --- the Bot API reference -------------------------------------------------------------------

# Types of the parameters this bot sends, for decoding form data when the reference is absent.
_FALLBACK_TYPES: dict[str, list[str]] = {
    "chat_id": ["Integer", "String"],
    "message_id": ["Integer"],
    "offset": ["Integer"],
    "limit": ["Integer"],
    "timeout": ["Integer"],
    "max_connections": ["Integer"],
    "cache_time": ["Integer"],
    "drop_pending_updates": ["Boolean"],
    "show_alert": ["Boolean"],
    "user_id": ["Integer"],
    "allowed_updates": ["Array of String"],
    "commands": ["Array of BotCommand"],
    "scope": ["BotCommandScope"],
    "reply_markup": ["InlineKeyboardMarkup"],
    "link_preview_options": ["LinkPreviewOptions"],
    "entities": ["Array of MessageEntity"],
}
_SCALARS = {"String", "Integer", "Float", "Boolean", "True"}
_INTEGER = re.compile(r"-?\d+")


@dataclass(frozen=True)
class BotApiSpec:
    """Methods and their fields from `telegram-bot-api.json` (names are case-insensitive)."""

    methods: dict[str, dict[str, tuple[list[str], bool]]]
    names: dict[str, str]

    @classmethod
    def load(cls, path: Path) -> "BotApiSpec | None":
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        methods = {
            name: {
                f["name"]: (list(f.get("types", [])), bool(f.get("required")))
                for f in method.get("fields", [])
            }
            for name, method in data["methods"].items()
        }
        return cls(methods, {name.casefold(): name for name in methods})

    def field_types(self, method: str, name: str) -> list[str] | None:
        known = self.names.get(method.casefold())
        if known is None or name not in self.methods[known]:
            return None
        return self.methods[known][name][0]

    def check(self, method: str, params: Json) -> list[str]:
        """What is wrong with this request, as sentences; empty when it is a valid call."""
        known = self.names.get(method.casefold())
        if known is None:
            return [f"{method}: no such method in the Bot API"]
        fields = self.methods[known]
        problems = [f"{known}: unknown parameter {name!r}" for name in params if name not in fields]
        problems += [
            f"{known}: required parameter {name!r} is missing"
            for name, (_, required) in fields.items()
            if required and name not in params
        ]
        return problems


def decode(raw: str, types: Sequence[str] | None) -> Any:
    """One form value as the Bot API reads it: PTB sends objects and arrays as JSON strings."""
    if types is None:
        if raw[:1] in "{[":
            try:
                return json.loads(raw)
            except ValueError:
                return raw
        return raw
    if any(t not in _SCALARS for t in types) and raw[:1] in "{[":
        return json.loads(raw)
    if "Integer" in types and _INTEGER.fullmatch(raw):
        return int(raw)
    if "Float" in types:
        try:
            return float(raw)
        except ValueError:
            pass
    if ("Boolean" in types or "True" in types) and raw in ("true", "false"):
        return raw == "true"
    return raw


# --- requests and faults ---------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request (sendDocument's `document`), as received."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass
class Call:
    """One request the fake received, and what it answered."""

    method: str
    params: Json
    headers: dict[str, str]
    http_method: str
    at: float
    status: int = 200
    result: Any = None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class _Fault:
    method: str | None  # None: any method that names the chat
    response: Json
    remaining: int | None  # None: for ever
    chat_id: int | str | None

    def matches(self, method: str, params: Json) -> bool:
        if self.remaining == 0:
            return False
        if self.method is not None and self.method.casefold() != method.casefold():
            return False
        return self.chat_id is None or params.get("chat_id") == self.chat_id


# Methods that put a message in a chat, as Telegram's flood limits count them.
_PACED = {"sendmessage", "editmessagetext", "senddocument", "sendphoto"}


@dataclass(frozen=True)
class FloodLimits:
    """Telegram's limits for one chat, each `(count, seconds)`: at most `count` messages in
    any `seconds`. About one a second in any chat; at most 20 a minute in a group."""

    private: tuple[tuple[int, float], ...] = ((1, 1.0),)
    group: tuple[tuple[int, float], ...] = ((1, 1.0), (20, 60.0))

    def scaled(self, factor: float) -> "FloodLimits":
        return FloodLimits(
            tuple((n, s * factor) for n, s in self.private),
            tuple((n, s * factor) for n, s in self.group),
        )

    def of(self, chat_id: int | str) -> tuple[tuple[int, float], ...]:
        return self.private if isinstance(chat_id, int) and chat_id > 0 else self.group


@dataclass
class FakeTelegram:
    """The Bot API at `{base_url}/bot{token}/{method}`; start() before use, close() after."""

    token: str = DEFAULT_TOKEN
    username: str = BOT_USERNAME
    spec: BotApiSpec | None = None
    calls: list[Call] = field(default_factory=list)
    # Requests per method (casefolded), kept as they come: a benchmark polling for its replies
    # must not pay a scan of the whole history on every turn of the loop.
    counts: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    # When set, a chat's message beyond its limits gets 429 with retry_after, as on Telegram.
    flood_limits: FloodLimits | None = None

    def __post_init__(self) -> None:
        self._updates: list[Json] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._messages: dict[tuple[int | str, int], Json] = {}
        self._faults: list[_Fault] = []
        # getChatMember's answers: (chat id, user id) -> status; anyone else is a "member".
        self.members: dict[tuple[int | str, int], str] = {}
        self._chat_times: defaultdict[int | str, list[float]] = defaultdict(list)
        self._arrived = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # --- lifecycle ---

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # No access log: it would print the token, and it is the fake's log, not the bot's.
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def close(self) -> None:
        self._closing = True
        self._wake()  # long polls answer now rather than hold the shutdown
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- what tests do ---

    def queue_update(self, update: Json) -> int:
        """Queue an update (without update_id) for getUpdates; returns its update_id."""
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **update})
        self._wake()
        return update_id

    def fail(
        self,
        method: str | None,
        response: Json,
        *,
        times: int | None = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next `times` matching requests with `response` (None: every one)."""
        self._faults.append(_Fault(method, response, times, chat_id))

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: every call naming this chat gets 403."""
        self.fail(None, blocked_by_user(), times=None, chat_id=chat_id)

    def migrate(self, old_chat_id: int, new_chat_id: int) -> None:
        """The group became a supergroup: every call naming the old id is told the new one."""
        self.fail(None, migrated_to(new_chat_id), times=None, chat_id=old_chat_id)

    def flooded(self) -> list[Call]:
        """Every request answered 429."""
        return [c for c in self.calls if c.status == 429]

    def requests(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method.casefold() == method.casefold()]

    def sent(self, chat_id: int | None = None) -> list[Json]:
        """The parameters of every sendMessage that succeeded, in order, optionally to one chat."""
        return [
            c.params
            for c in self.requests("sendMessage")
            if c.ok and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def message(self, chat_id: int, message_id: int) -> Json:
        """A message the bot sent, as Telegram holds it now (after any edits)."""
        return self._messages[(chat_id, message_id)]

    @property
    def bot_user(self) -> Json:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Partnership Briefings",
            "username": self.username,
        }

    # --- the server ---

    def _wake(self) -> None:
        self._arrived.set()
        self._arrived = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request, method)
        call = Call(
            method=method,
            params=params,
            headers=dict(request.headers),
            http_method=request.method,
            at=time.monotonic(),
        )
        self.calls.append(call)
        self.counts[method.casefold()] += 1
        if self.spec is not None:
            self.violations += self.spec.check(method, params)
        if request.match_info["token"] != self.token:
            body = error(401, "Unauthorized")
        else:
            body = (
                self._fault(method, params)
                or self._flood(method, params, call.at)
                or await self._answer(method, params)
            )
        call.status = 200 if body["ok"] else int(body["error_code"])
        call.result = body.get("result")
        if body.get("drop"):
            assert request.transport is not None
            request.transport.abort()
            return web.Response()  # never written: the connection is gone
        return web.json_response(body, status=call.status)

    async def _params(self, request: web.Request, method: str) -> Json:
        def types(name: str) -> list[str] | None:
            known = self.spec.field_types(method, name) if self.spec else None
            return known or _FALLBACK_TYPES.get(name)

        params: Json = {k: decode(v, types(k)) for k, v in request.query.items()}
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        elif request.can_read_body:
            form = await request.post()
            for k, v in form.items():
                if isinstance(v, str):
                    params[k] = decode(v, types(k))
                elif isinstance(v, web.FileField):  # a file part
                    params[k] = Upload(v.filename, v.content_type, v.file.read())
        return params

    def _fault(self, method: str, params: Json) -> Json | None:
        for fault in self._faults:
            if fault.matches(method, params):
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault.response
        return None

    def _flood(self, method: str, params: Json, at: float) -> Json | None:
        """429 when this message would break a limit of its chat; else count it."""
        if self.flood_limits is None or method.casefold() not in _PACED:
            return None
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int | str):
            return None
        times = self._chat_times[chat_id]
        for count, seconds in self.flood_limits.of(chat_id):
            recent = [t for t in times if t > at - seconds]
            if len(recent) >= count:
                wait = recent[-count] + seconds - at
                return too_many_requests(max(1, math.ceil(wait)))
        times.append(at)
        del times[:-64]  # more than any window counts
        return None

    async def _answer(self, method: str, params: Json) -> Json:
        handler = self._methods().get(method.casefold())
        if handler is None:
            return error(404, "Not Found: method not found")
        result = handler(params)
        if asyncio.iscoroutine(result):
            result = await result
        return result if isinstance(result, dict) and "ok" in result else _ok(result)

    def _methods(self) -> dict[str, Callable[[Json], Any]]:
        def true(_: Json) -> bool:
            return True

        return {
            "getme": lambda _: self.bot_user,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "senddocument": self._send_document,
            "editmessagetext": self._edit_message_text,
            "answercallbackquery": true,
            "getchatmember": self._get_chat_member,
            "setmycommands": true,
            "deletewebhook": true,
            "setwebhook": true,
            "getwebhookinfo": lambda _: {
                "url": "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            },
            "close": true,
            "logout": true,
        }

    async def _get_updates(self, params: Json) -> list[Json]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        allowed = params.get("allowed_updates") or None
        if offset > 0:  # confirms every update before it, as Telegram does
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(float(params.get("timeout") or 0), MAX_LONG_POLL)
        while True:
            arrived = self._arrived
            ready = [
                u
                for u in self._updates
                if allowed is None or any(kind in allowed for kind in u if kind != "update_id")
            ]
            remaining = deadline - loop.time()
            if ready or self._closing or remaining <= 0:
                return ready[:limit]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), remaining)

    def _send_message(self, params: Json) -> Json:
        chat_id = params["chat_id"]
        message: Json = {
            "message_id": next(self._message_ids),
            "from": self.bot_user,
            "chat": chat(chat_id),
            "date": int(time.time()),
            "text": params["text"],
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        self._messages[(chat_id, message["message_id"])] = message
        return message

    def documents(self, chat_id: int | None = None) -> list[Json]:
        """sendDocument requests that went through, in order (`document` is an `Upload`)."""
        return [
            c.params
            for c in self.requests("sendDocument")
            if c.ok and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def _send_document(self, params: Json) -> Json:
        document = params.get("document")
        if not isinstance(document, Upload):
            return error(400, "Bad Request: there is no document in the request")
        chat_id = params["chat_id"]
        message: Json = {
            "message_id": next(self._message_ids),
            "from": self.bot_user,
            "chat": chat(chat_id),
            "date": int(time.time()),
            "document": {
                "file_id": f"doc-{len(self.calls)}",
                "file_unique_id": f"u{len(self.calls)}",
                "file_name": document.filename,
                "mime_type": document.content_type,
                "file_size": len(document.data),
            },
        }
        if "caption" in params:
            message["caption"] = params["caption"]
        return message

    def _get_chat_member(self, params: Json) -> Json:
        status = self.members.get((params["chat_id"], params["user_id"]), "member")
        return chat_member(status, user(params["user_id"]))

    def _edit_message_text(self, params: Json) -> Json:
        if "inline_message_id" in params:
            return _ok(True)
        key = (params["chat_id"], params["message_id"])
        old = self._messages.get(key)
        if old is None:
            return error(400, "Bad Request: message to edit not found")
        if old["text"] == params["text"] and old.get("reply_markup") == params.get("reply_markup"):
            return error(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup of "
                "the message",
            )
        new = {**old, "text": params["text"], "edit_date": int(time.time())}
        new.pop("reply_markup", None)
        if "reply_markup" in params:
            new["reply_markup"] = params["reply_markup"]
        self._messages[key] = new
        return new


def _ok(result: Any) -> Json:
    return {"ok": True, "result": result}


# --- updates, as Telegram would send them --------------------------------------------------


def chat(chat_id: int | str, title: str = "Turin–Gwangju partnership") -> Json:
    """A Chat for an id: positive ids are people, -100… supergroups, other negatives groups."""
    if isinstance(chat_id, str):
        return {"id": chat_id, "type": "channel", "title": title}
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Ada"}
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": title}


def user(user_id: int, language_code: str | None = "en") -> Json:
    person: Json = {"id": user_id, "is_bot": False, "first_name": "Ada", "username": "ada"}
    if language_code is not None:
        person["language_code"] = language_code
    return person


# What each kind of ChatMember must carry besides `status` and `user` (the Bot API's required
# fields; an administrator here holds no privilege beyond being one).
_MEMBER_FIELDS: dict[str, Json] = {
    "creator": {"is_anonymous": False},
    "administrator": {
        name: False
        for name in (
            "can_be_edited",
            "is_anonymous",
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_promote_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
        )
    },
    "member": {},
    "left": {},
    "kicked": {"until_date": 0},
}


def chat_member(status: str, person: Json) -> Json:
    """A ChatMember: `creator`, `administrator`, `member`, `left` or `kicked`."""
    return {"status": status, "user": person, **_MEMBER_FIELDS[status]}


def my_chat_member(chat_id: int, old: str, new: str, *, by: int = 5001) -> Json:
    """An update: the bot's own membership of a chat changed (blocked, removed, back)."""
    return {
        "my_chat_member": {
            "chat": chat(chat_id),
            "from": user(by),
            "date": int(time.time()),
            "old_chat_member": chat_member(old, _bot_user()),
            "new_chat_member": chat_member(new, _bot_user()),
        }
    }


def _bot_user() -> Json:
    return {"id": BOT_ID, "is_bot": True, "first_name": "Partnership Briefings"}


_message_ids = itertools.count(10_000)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def message(text: str, chat_id: int, sender: Json) -> Json:
    """A user's text message; a leading /command carries its bot_command entity."""
    body: Json = {
        "message_id": next(_message_ids),
        "from": sender,
        "chat": chat(chat_id),
        "date": int(time.time()),
        "text": text,
    }
    if text.startswith("/"):
        head = text.split(maxsplit=1)[0]
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_len(head)}]
    return body


def private_message(text: str, *, chat_id: int = 5001, language_code: str | None = "en") -> Json:
    """An update: a person writes to the bot in a private chat (chat id = user id)."""
    return {"message": message(text, chat_id, user(chat_id, language_code))}


def group_message(
    text: str, *, chat_id: int = -4001, user_id: int = 5002, language_code: str | None = "en"
) -> Json:
    """An update: a person writes in a group the bot is a member of."""
    return {"message": message(text, chat_id, user(user_id, language_code))}


_query_ids = itertools.count(1)


def callback_query(
    data: str, *, on: Json, user_id: int = 5001, language_code: str | None = "en"
) -> Json:
    """An update: a person pressed a button with `data` under the bot's message `on`."""
    return {
        "callback_query": {
            "id": str(next(_query_ids) * 1_000_003),
            "from": user(user_id, language_code),
            "message": on,
            "chat_instance": "-5551234",
            "data": data,
        }
    }


async def wait_until(
    condition: Callable[[], object], timeout: float = 5.0, interval: float = 0.01
) -> None:
    """Poll `condition` until it is true; fail the test after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not true within {timeout} s: {condition}")
        await asyncio.sleep(interval)


def texts(payloads: Iterable[Json]) -> list[str]:
    return [p["text"] for p in payloads]
