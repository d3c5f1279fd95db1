"""PTB's request interface on aiohttp (bot/telegram/transport.py), against a server on 127.0.0.1.

What PTB's own backend does, ours must: parameters as Telegram reads them, a file as multipart,
a slow answer as `TimedOut`, a refused connection as `NetworkError`; and the sessions close.
"""

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData

# RequestParameter is PTB's; it builds RequestData exactly as Bot methods do.
from telegram.request._requestparameter import RequestParameter

from bot.telegram.transport import AiohttpRequest


class Server:
    def __init__(self) -> None:
        self.seen: list[dict[str, object]] = []
        self.delay = 0.0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.content_type == "application/json":
            body = await request.json()
            self.seen.append({"content_type": request.content_type, "fields": body})
            self.seen[-1].update(request.headers)
            return web.json_response({"ok": True, "result": {"message_id": 7}})
        form = await request.post()
        fields: dict[str, object] = {}
        for name, value in form.items():
            if isinstance(value, web.FileField):
                fields[name] = (value.filename, value.content_type, value.file.read())
            else:
                fields[name] = value
        self.seen.append(
            {"content_type": request.content_type, "fields": fields, **dict(request.headers)}
        )
        return web.json_response({"ok": True, "result": {"message_id": 7}})


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    served = Server()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", served.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    served.url = f"http://127.0.0.1:{runner.addresses[0][1]}/bot1:x"
    yield served
    await runner.cleanup()


@pytest.fixture
async def request_() -> AsyncIterator[AiohttpRequest]:
    made = AiohttpRequest(read_timeout=0.5)
    await made.initialize()
    yield made
    await made.shutdown()


def _data(**values: object) -> RequestData:
    return RequestData([RequestParameter.from_input(k, v) for k, v in values.items()])


async def test_parameters_are_posted_as_json_and_the_answer_read_by_ptb(
    server: Server, request_: AiohttpRequest
) -> None:
    markup = {"inline_keyboard": [[{"text": "Day 2", "callback_data": "a1.d.x.20240827"}]]}
    result = await request_.post(
        f"{server.url}/sendMessage", _data(chat_id=5001, text="Ciao & 안녕", reply_markup=markup)
    )
    assert result == {"message_id": 7}
    (seen,) = server.seen
    assert seen["content_type"] == "application/json"
    # The Bot API's own JSON types: a number, a string, an object (not a JSON string).
    assert seen["fields"] == {"chat_id": 5001, "text": "Ciao & 안녕", "reply_markup": markup}
    assert str(seen["User-Agent"]).startswith("python-telegram-bot")


async def test_a_file_goes_as_multipart_with_its_name_and_type(
    server: Server, request_: AiohttpRequest
) -> None:
    document = InputFile(b"BEGIN:VCALENDAR", filename="visit.ics")
    await request_.post(f"{server.url}/sendDocument", _data(chat_id=5001, document=document))
    (seen,) = server.seen
    assert seen["content_type"] == "multipart/form-data"
    fields = seen["fields"]
    assert isinstance(fields, dict)
    assert fields["chat_id"] == "5001"
    filename, mime_type, content = fields["document"]
    assert (filename, mime_type, content) == ("visit.ics", "text/calendar", b"BEGIN:VCALENDAR")


async def test_a_slow_answer_is_timed_out(server: Server, request_: AiohttpRequest) -> None:
    server.delay = 2.0
    with pytest.raises(TimedOut):
        await request_.post(f"{server.url}/getMe", None)


async def test_a_refused_connection_is_a_network_error(request_: AiohttpRequest) -> None:
    # A port bound and not listening refuses connections, and no other test can take it.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        with pytest.raises(NetworkError, match=r"aiohttp\.ClientConnectorError"):
            await request_.post(f"http://127.0.0.1:{port}/bot1:x/getMe", None)


async def test_it_needs_initializing_and_can_be_initialized_again(server: Server) -> None:
    made = AiohttpRequest()
    with pytest.raises(RuntimeError, match="not initialized"):
        await made.do_request(f"{server.url}/getMe", "POST")
    await made.initialize()
    await made.shutdown()
    await made.initialize()  # as PTB does across Application restarts
    try:
        status, _ = await made.do_request(f"{server.url}/getMe", "POST")
        assert status == 200
    finally:
        await made.shutdown()
