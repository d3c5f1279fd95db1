"""The briefing book and calendar feed over HTTP, behind signed, expiring links.

Mounted on the one HTTP server (next to /healthz) when BRIEFINGS_PUBLIC_URL is set. A request
without a valid signature gets 403 and an expired one 410, either with an empty body. Calendar
apps poll a subscribed feed and browsers reload pages: an ETag (a hash of the bytes) and a
Last-Modified (the latest publication among the visit's sources) let them revalidate with a
304 and no body.
"""

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache

from aiohttp import web

from bot.http import HttpServer
from bot.links import LinkSigner
from briefings.book import render_book
from briefings.calendar import revised_at, visit_calendar
from briefings.knowledge import known_articles
from briefings.languages import is_lang
from briefings.library import Library

CONTENT_TYPES = {"book": "text/html; charset=utf-8", "calendar": "text/calendar; charset=utf-8"}
# Nothing is fetched by the page, and it is framed nowhere: a stricter policy than its own.
BOOK_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
# Renderings kept: every visit in every language, both kinds, for a few states of knowledge.
CACHED = 128


class Publication:
    def __init__(self, library: Library, signer: LinkSigner, clock: Callable[[], datetime]) -> None:
        self._library = library
        self._signer = signer
        self._clock = clock
        self._render = lru_cache(maxsize=CACHED)(self._content)

    def mount(self, http: HttpServer) -> None:
        http.add_get("/book/{visit}/{lang}.html", self._book)
        http.add_get("/calendar/{visit}/{lang}.ics", self._calendar)

    async def _book(self, request: web.Request) -> web.Response:
        return self._serve(request, "book")

    async def _calendar(self, request: web.Request) -> web.Response:
        return self._serve(request, "calendar")

    def _serve(self, request: web.Request, kind: str) -> web.Response:
        visit_id, lang = request.match_info["visit"], request.match_info["lang"]
        verdict = self._signer.verify(
            kind,
            visit_id,
            lang,
            request.query.get("expires", ""),
            request.query.get("sig", ""),
        )
        if verdict == "forbidden":
            return web.Response(status=403)
        if verdict == "expired":
            return web.Response(status=410)
        visit = self._library.visit(visit_id)
        if visit is None or not is_lang(lang):
            return web.Response(status=404)
        now = self._clock()
        known = known_articles(self._library.articles, now)
        # The book's one-screen summary reads the clock (before, during, after the visit): an
        # hour is fine enough for it, and keeps the cache useful. The feed does not.
        hour = now.replace(minute=0, second=0, microsecond=0) if kind == "book" else None
        body = self._render(kind, visit_id, lang, known, hour)
        partnership = self._library.partnership_of(visit)
        sources = [a for a in (*visit.articles, *partnership.articles) if a in known]
        modified = revised_at(sources, self._library.articles, visit.first_day)
        modified = modified.replace(microsecond=0)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {
            "ETag": etag,
            "Last-Modified": format_datetime(modified, usegmt=True),
            # Always revalidate: cheap with the validators, and a book never goes stale.
            "Cache-Control": "private, no-cache",
            "Referrer-Policy": "no-referrer",
            "X-Robots-Tag": "noindex, nofollow",
            "X-Content-Type-Options": "nosniff",
        }
        if kind == "book":
            headers["Content-Security-Policy"] = BOOK_POLICY
        else:
            headers["Content-Disposition"] = f'inline; filename="{visit_id}.{lang}.ics"'
        if _not_modified(request, etag, modified):
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, headers={**headers, "Content-Type": CONTENT_TYPES[kind]})

    def _content(
        self, kind: str, visit_id: str, lang: str, known: frozenset[str], hour: datetime | None
    ) -> bytes:
        library = self._library
        visit = library.visit(visit_id)
        assert visit is not None
        assert is_lang(lang)
        partnership = library.partnership_of(visit)
        if kind == "calendar":
            return visit_calendar(visit, partnership, library.articles, lang, known=known)
        assert hour is not None
        return render_book(visit, partnership, library.articles, hour, lang, known=known)


def _not_modified(request: web.Request, etag: str, modified: datetime) -> bool:
    """RFC 9110: If-None-Match decides when present; otherwise If-Modified-Since."""
    match = request.headers.get("If-None-Match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return etag in tags or "*" in tags
    since = request.headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return modified <= when
