"""The book and the calendar feed over real HTTP: signed links that expire, revalidation."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from icalendar import Calendar
from multidict import CIMultiDict

from bot.http import HttpServer
from bot.links import LinkSigner, SignedLinks
from bot.publishing import Publication
from bot.session import SessionChatStates
from briefings.conversation import Conversation, Incoming
from briefings.library import Library
from briefings.ports import ChatRef
from briefings.rendering.renderer import Renderer

from ..conftest import AUGUST

SECRET = b"a-test-secret-for-signing-links"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def served(library: Library, clock: Clock) -> AsyncIterator[tuple[str, LinkSigner]]:
    signer = LinkSigner(SECRET, days=30, clock=clock)
    http = HttpServer("127.0.0.1", 0)
    Publication(library, signer, clock).mount(http)
    await http.start()
    try:
        yield f"http://127.0.0.1:{http.port}", signer
    finally:
        await http.stop()


async def _get(
    url: str, headers: dict[str, str] | None = None
) -> tuple[int, CIMultiDict[str], bytes]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status, CIMultiDict(response.headers), await response.read()


@pytest.mark.parametrize("kind", ["book", "calendar"])
async def test_signed_links_valid_tampered_missing_expired(
    served: tuple[str, LinkSigner], clock: Clock, kind: str
) -> None:
    root, signer = served
    path = signer.path(kind, AUGUST, "ko")  # type: ignore[arg-type]
    status, headers, body = await _get(root + path)
    assert status == 200
    if kind == "calendar":
        assert headers["Content-Type"].startswith("text/calendar")
        assert Calendar.from_ical(body).walk("VEVENT")
    else:
        assert headers["Content-Type"].startswith("text/html")
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert '<html lang="ko">' in body.decode()

    query = parse_qs(urlsplit(path).query)
    bare = path.split("?")[0]
    sig, expires = query["sig"][0], query["expires"][0]
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    refused = {
        "missing signature": f"{bare}?expires={expires}",
        "missing everything": bare,
        "tampered signature": f"{bare}?expires={expires}&sig={flipped}",
        "tampered expiry": f"{bare}?expires={int(expires) + 86400}&sig={sig}",
        "another visit": path.replace(AUGUST, "kang-turin-2024-04"),
        "another language": path.replace("/ko.", "/en."),
    }
    for why, forged in refused.items():
        status, _, body = await _get(root + forged)
        assert (status, body) == (403, b""), why

    clock.now += timedelta(days=30, seconds=1)
    status, _, body = await _get(root + path)
    assert (status, body) == (410, b"")
    # An expired link with a bad signature says nothing about its expiry.
    status, _, _ = await _get(root + f"{bare}?expires={expires}&sig={flipped}")
    assert status == 403


async def test_revalidation_answers_304_without_a_body(served: tuple[str, LinkSigner]) -> None:
    root, signer = served
    url = root + signer.path("calendar", AUGUST, "en")
    status, headers, body = await _get(url)
    assert status == 200
    assert body
    etag, modified = headers["ETag"], headers["Last-Modified"]
    status, again, body = await _get(url, {"If-None-Match": etag})
    assert (status, body) == (304, b"")
    assert again["ETag"] == etag
    status, _, body = await _get(url, {"If-Modified-Since": modified})
    assert (status, body) == (304, b"")
    status, _, body = await _get(url, {"If-None-Match": '"something-else"'})
    assert status == 200
    assert body


async def test_replies_carry_signed_links_and_a_webcal_feed(
    served: tuple[str, LinkSigner], library: Library, clock: Clock
) -> None:
    root, signer = served
    publisher = SignedLinks(root, signer)
    # The bot and the server read one clock: the file sent and the feed fetched then agree.
    conversation = Conversation(library, SessionChatStates(), clock, publisher=publisher)
    answer = await conversation.handle(Incoming(ChatRef("console", "0"), text="/calendar"))
    assert answer.reply.attachment is not None
    assert answer.reply.attachment.filename == f"{AUGUST}.en.ics"
    links = answer.reply.data["links"]
    assert links["calendar"].startswith("webcal://127.0.0.1:")
    [document, text] = Renderer().render(answer.reply, "telegram")
    assert document.attachment is answer.reply.attachment
    assert links["book"].replace("&", "&amp;") in text.text
    # The links work: the feed over http, as a calendar app fetches a webcal:// URL.
    status, _, body = await _get("http" + links["calendar"].removeprefix("webcal"))
    assert status == 200
    assert body == answer.reply.attachment.content
    status, _, _ = await _get(links["book"])
    assert status == 200
