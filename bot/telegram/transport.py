"""python-telegram-bot's request interface (`BaseRequest`) on aiohttp.

PTB makes every call through a `BaseRequest`: it builds the request, and its `_request_wrapper`
reads Telegram's answer (RetryAfter, ChatMigrated, Forbidden...). Only `do_request`, the HTTP
exchange itself, is the backend's; PTB ships one on httpx and documents the interface for
others. Ours is aiohttp, the stack the bot already serves HTTP with and Slack's client already
uses: an exchange costs a fraction of httpx's CPU (bench/send_cpu.py prints both), and CPU per
message is what bounds a fan-out and the updates a process answers.
It posts the parameters as JSON, which the Bot API takes as it takes a form. Everything above
`do_request` stays PTB's.
"""

import json
import logging

import aiohttp

# The timeouts' type in BaseRequest's signature: a float, None, or "not given" (DefaultValue);
# PTB exports neither name.
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)


class AiohttpRequest(BaseRequest):
    """`connections`: open at once at most (PTB's `connection_pool_size`); the timeouts mean
    what PTB's do, in seconds (None: none), `media_write_timeout` for a request with a file.
    aiohttp has no write timeout of its own, and starts reading only once the body is written:
    the whole exchange is bounded by the four timeouts added up, so a stalled upload ends."""

    def __init__(
        self,
        *,
        connections: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._media_write_timeout = media_write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        """The session is made here, on the running loop, never at construction."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._connections, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(  # noqa: PLR0917 - BaseRequest's own signature, positional as PTB calls it
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        body, content_type = _body(request_data)
        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        uploading = isinstance(body, aiohttp.FormData)
        write = _given(
            write_timeout, self._media_write_timeout if uploading else self._write_timeout
        )
        limits = (pool, connect, write, read)
        timeout = aiohttp.ClientTimeout(
            total=None if None in limits else sum(t for t in limits if t is not None),
            # aiohttp's `connect` covers waiting for a free connection and making one.
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        headers = {"Content-Type": content_type} if content_type else None
        try:
            async with session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                payload = await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            # The class name says what failed when the message is empty (as for a reset).
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
        # The request line, as httpx logs it: the URL holds the token, which the log-record
        # factory (bot/redaction.py) masks.
        log.debug('HTTP Request: %s %s "%d"', method, url, response.status)
        return response.status, payload


def _given(value: ODVInput[float], default: float | None) -> float | None:
    """A timeout PTB was given for this call, else ours."""
    return default if isinstance(value, DefaultValue) else value


def _body(request_data: RequestData | None) -> tuple[bytes | aiohttp.FormData | None, str | None]:
    """The request's body and its content type: the parameters as JSON, which the Bot API
    takes as it takes a form (and which costs a fraction of URL-encoding a long message);
    multipart when there is a file."""
    if request_data is None:
        return None, None
    files = request_data.multipart_data
    if not files:
        parameters = request_data.parameters
        if not parameters:
            return None, None
        return json.dumps(parameters, ensure_ascii=False).encode(), "application/json"
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in files.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form, None
