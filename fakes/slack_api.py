"""A fake Slack on 127.0.0.1 for the real Bolt app and slack_sdk clients to talk to.

One aiohttp server plays three parts of Slack: the Web API (`/api/{method}`), the `response_url`
endpoints (`/response/{name}`) and a Socket Mode WebSocket (`/link`). It records every request
in order, so tests assert on what Slack would have received; it can be told to fail a method
(429 with Retry-After, 5xx) or to be slow; and, when Slack's published Web API specification is
beside the project, it checks every call against it. It also signs requests as Slack does and
builds the payloads Slack sends, so tests speak Slack's wire format, not the adapter's.
"""

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import WSMsgType, web

BOT_TOKEN = "xoxb-test-token-for-the-fake"  # noqa: S105 - made up for tests
APP_TOKEN = "xapp-test-token-for-the-fake"  # noqa: S105
SIGNING_SECRET = "test-signing-secret-0123456789abcdef"  # noqa: S105
TEAM = "T0PARTNER"
OTHER_TEAM = "T0OUTSIDER"
BOT_USER = "U0BRIEFBOT"
BOT_ID = "B0BRIEFBOT"
APP_ID = "A0BRIEFING"

Json = dict[str, Any]


# --- Slack's published specifications --------------------------------------------------------

# Methods the bot may call that Slack published after the 2020 specification.
NEWER_METHODS = {
    "apps.connections.open": "Socket Mode (2021) postdates the 2020 Web API spec",
    "files.getUploadURLExternal": "the external upload flow (2023) postdates the 2020 spec",
    "files.completeUploadExternal": "the external upload flow (2023) postdates the 2020 spec",
}
# Arguments slack_sdk adds to calls on its own, which the 2020 spec predates.
SDK_ARGUMENTS = {"team_id": "Bolt's per-request client names the workspace (org-wide apps)"}
# Event types the manifest subscribes to that the 2020 Events API spec does not list.
NEWER_EVENTS = {"app_home_opened": "the App Home (2019-2020) is missing from the 2020 spec"}


@dataclass(frozen=True)
class WebApiSpec:
    """Each Web API method and its parameters, from `slack-web-api.openapi2.json`."""

    methods: dict[str, tuple[frozenset[str], frozenset[str]]]

    @classmethod
    def load(cls, path: Path) -> "WebApiSpec | None":
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        methods: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        for route, operations in data["paths"].items():
            names: set[str] = set()
            required: set[str] = set()
            for operation in operations.values():
                for parameter in operation.get("parameters", []):
                    names.add(parameter["name"])
                    if parameter.get("required"):
                        required.add(parameter["name"])
            methods[route.lstrip("/")] = (frozenset(names), frozenset(required))
        return cls(methods)

    def check(self, method: str, args: Json) -> list[str]:
        """What is wrong with this call, as sentences; empty when Slack would accept it."""
        if method not in self.methods:
            return [] if method in NEWER_METHODS else [f"{method}: no such Web API method"]
        names, required = self.methods[method]
        # The token travels in the Authorization header, which the spec also allows.
        problems = [
            f"{method}: unknown argument {a!r}"
            for a in args
            if a not in names and a not in SDK_ARGUMENTS
        ]
        problems += [
            f"{method}: required argument {r!r} is missing"
            for r in sorted(required - {"token"})
            if r not in args
        ]
        return problems


@dataclass(frozen=True)
class EventsSpec:
    """Event types and the outer envelope, from `slack-events-api.asyncapi.json`."""

    topics: frozenset[str]
    required: frozenset[str]

    @classmethod
    def load(cls, path: Path) -> "EventsSpec | None":
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        wrapper = data["components"]["schemas"]["GenericEventWrapper"]
        return cls(frozenset(data["topics"]), frozenset(wrapper["required"]))

    def knows(self, event_type: str) -> bool:
        """`app_mention` is the topic `app.mention`; `message.im` is written as is."""
        return event_type.replace("_", ".") in self.topics

    def check(self, envelope: Json) -> list[str]:
        problems = [f"envelope lacks {k!r}" for k in sorted(self.required) if k not in envelope]
        event_type = envelope.get("event", {}).get("type", "")
        if not self.knows(event_type) and event_type not in NEWER_EVENTS:
            problems.append(f"unknown event type {event_type!r}")
        return problems


# --- what Slack sends us -----------------------------------------------------------------------


def sign(body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """Slack's request signature: HMAC-SHA256 of `v0:{timestamp}:{body}` with the secret."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


_ids = itertools.count(1)


def slash_command(
    text: str,
    response_url: str,
    *,
    user: str = "U0ALICE",
    team: str = TEAM,
    channel: str = "C0GENERAL",
) -> Json:
    """The fields of a slash command request, as Slack posts them (form-encoded)."""
    return {
        "token": "legacy-verification-token",
        "team_id": team,
        "team_domain": "partnership",
        "channel_id": channel,
        "channel_name": "general",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/briefing",
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{next(_ids)}.trigger",
    }


def event_callback(event: Json, *, team: str = TEAM, event_id: str | None = None) -> Json:
    """An Events API delivery: the generic wrapper around one event."""
    return {
        "token": "legacy-verification-token",
        "team_id": team,
        "api_app_id": APP_ID,
        "event": {"event_ts": f"{time.time():.6f}", **event},
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}",
        "event_time": int(time.time()),
        "authed_users": [BOT_USER],
        "authorizations": [
            {"team_id": team, "user_id": BOT_USER, "is_bot": True, "is_enterprise_install": False}
        ],
    }


def block_action(
    value: str,
    *,
    action_id: str = "go_1",
    user: str = "U0ALICE",
    team: str = TEAM,
    container: Json,
    response_url: str | None = None,
    view: Json | None = None,
) -> Json:
    """A `block_actions` payload for one button press."""
    payload: Json = {
        "type": "block_actions",
        "team": {"id": team, "domain": "partnership"},
        "user": {"id": user, "username": user.lower(), "team_id": team},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "container": container,
        "trigger_id": f"{next(_ids)}.trigger",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "go",
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    if response_url is not None:
        payload["response_url"] = response_url
    if view is not None:
        payload["view"] = view
    return payload


def form_body(fields: Json) -> str:
    return urlencode(fields)


def action_body(payload: Json) -> str:
    return urlencode({"payload": json.dumps(payload)})


# --- the fake server ---------------------------------------------------------------------------


@dataclass
class Call:
    """One Web API request as the fake received it."""

    method: str
    args: Json
    token: str | None
    status: int = 200
    # What the fake answered, once it has: a posted message's `ts` is in it.
    result: Json | None = None


@dataclass
class Fault:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


def rate_limited(retry_after: int = 0) -> Fault:
    body = json.dumps({"ok": False, "error": "ratelimited"})
    return Fault(429, {"Retry-After": str(retry_after)}, body)


def server_error(status: int = 500) -> Fault:
    return Fault(status, {}, "Internal Server Error")


def api_error(error: str = "fatal_error") -> Fault:
    """Slack's own refusal: HTTP 200 with `ok: false`, which slack_sdk raises and never retries."""
    return Fault(
        200, {"Content-Type": "application/json"}, json.dumps({"ok": False, "error": error})
    )


class FakeSlack:
    def __init__(self, spec: WebApiSpec | None = None) -> None:
        self.spec = spec
        self.calls: list[Call] = []
        # Bodies posted to response URLs, as (name, body) in order of arrival.
        self.responses: list[tuple[str, Json]] = []
        self.acks: list[Json] = []
        self.violations: list[str] = []
        self.locales: dict[str, str] = {}
        # Workspace admins and owners, as `users.info` reports them.
        self.admins: set[str] = set()
        self.owners: set[str] = set()
        self.faults: dict[str, list[Fault]] = {}
        # Files by id: getUploadURLExternal's arguments, the bytes uploaded, and the
        # completeUploadExternal that shared them (None until then).
        self.files: dict[str, Json] = {}
        self.delays: dict[str, float] = {}
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/link", self._link)
        self._app = app

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        self._runner = web.AppRunner(self._app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base}/response/{name}"

    # --- script ----------------------------------------------------------------------------

    def fail(self, method: str, *faults: Fault) -> None:
        """The next calls of `method` fail like this, in order; later calls succeed."""
        self.faults.setdefault(method, []).extend(faults)

    def called(self, method: str, ok_only: bool = True) -> list[Call]:
        return [c for c in self.calls if c.method == method and (c.status == 200 or not ok_only)]

    def answered(self, name: str) -> list[Json]:
        return [body for n, body in self.responses if n == name]

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        """Until `condition()` holds after some request; fails the test after `timeout`."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(condition), timeout)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- Web API ------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: Json = dict(request.query)
        raw = await request.text()
        if raw:
            if request.content_type == "application/json":
                args.update(json.loads(raw))
            else:
                args.update(parse_qsl(raw, keep_blank_values=True))
        authorization = request.headers.get("Authorization", "")
        token = authorization.removeprefix("Bearer ") or args.pop("token", None)
        call = Call(method, args, token)
        self.calls.append(call)
        if self.spec is not None:
            self.violations += self.spec.check(method, args)
        if delay := self.delays.get(method):
            await asyncio.sleep(delay)
        faults = self.faults.get(method)
        if faults:
            fault = faults.pop(0)
            call.status = fault.status
            await self._notify()
            return web.Response(status=fault.status, headers=fault.headers, text=fault.body)
        expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if token != expected:  # Slack answers 200 with an error, as here
            result: Json = {"ok": False, "error": "invalid_auth"}
        else:
            result = self._result(method, args)
        call.result = result
        await self._notify()
        return web.json_response(result)

    def _result(self, method: str, args: Json) -> Json:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://partnership.slack.com/",
                "team": "Partnership",
                "user": "briefings",
                "team_id": TEAM,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
            }
        if method == "users.info":
            user = str(args.get("user"))
            locale = self.locales.get(user, "en-US")
            return {
                "ok": True,
                "user": {
                    "id": user,
                    "team_id": TEAM,
                    "locale": locale,
                    "is_admin": user in self.admins or user in self.owners,
                    "is_owner": user in self.owners,
                },
            }
        if method == "chat.postMessage":
            ts = f"1724716800.{next(self._ts):06d}"
            return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": {"ts": ts}}
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method == "views.publish":
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            return {"ok": True, "view": {"id": "V0HOME", **(view or {})}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{len(self.files) + 1:08d}"
            self.files[file_id] = {
                "filename": args.get("filename"),
                "length": int(args.get("length", -1)),
                "data": None,
                "shared": None,
            }
            return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            listed = args.get("files")
            listed = json.loads(listed) if isinstance(listed, str) else listed or []
            done = []
            for item in listed:
                known = self.files.get(str(item.get("id")))
                if known is None or known["data"] is None:
                    return {"ok": False, "error": "file_not_found"}
                known["shared"] = {**args, "title": item.get("title")}
                done.append(
                    {"id": item["id"], "name": known["filename"], "title": item.get("title")}
                )
            return {"ok": True, "files": done}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link?ticket=t"}
        return {"ok": False, "error": "unknown_method"}

    def uploaded(self) -> list[Json]:
        """Files uploaded and shared, in order: filename, data, and the completing call."""
        return [f for f in self.files.values() if f["shared"] is not None]

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL: Slack takes the bytes as the body and answers 200."""
        known = self.files.get(request.match_info["file_id"])
        if known is None:
            return web.Response(status=404)
        data = await request.read()
        if known["length"] != len(data):
            return web.Response(status=400, text="length differs from the one announced")
        known["data"] = data
        await self._notify()
        return web.Response(text=f"OK - {len(data)}")

    # --- response_url ----------------------------------------------------------------------

    async def _response(self, request: web.Request) -> web.Response:
        self.responses.append((request.match_info["name"], await request.json()))
        await self._notify()
        return web.Response(text="ok")

    # --- Socket Mode -------------------------------------------------------------------------

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": APP_ID}}
        )
        await self._notify()
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                self.acks.append(json.loads(message.data))
                await self._notify()
        self._sockets.remove(socket)
        return socket

    @property
    def connected(self) -> bool:
        return bool(self._sockets)

    async def send_envelope(self, envelope: Json) -> None:
        await self._sockets[-1].send_json(envelope)
