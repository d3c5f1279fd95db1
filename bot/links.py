"""Signed, expiring links to the published briefing book and calendar feed.

A link is a capability: whoever holds it may read that visit's book or feed in that language
until it expires, and nobody can make one without the server's secret. The signature is an
HMAC-SHA256 over the kind, the visit, the language and the expiry, so changing any of them (or
the signature) makes the link worthless; checking it takes constant time.
"""

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

from briefings.languages import Lang
from briefings.ports import PublicLinks

Kind = Literal["book", "calendar"]
Verdict = Literal["ok", "forbidden", "expired"]
EXTENSIONS: dict[Kind, str] = {"book": "html", "calendar": "ics"}


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class LinkSigner:
    secret: bytes
    days: float = 30
    clock: Callable[[], datetime] = _now

    def signature(self, kind: str, visit: str, lang: str, expires: int) -> str:
        message = f"{kind}\n{visit}\n{lang}\n{expires}".encode()
        digest = hmac.new(self.secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def path(self, kind: Kind, visit: str, lang: Lang) -> str:
        """The path and query of a fresh link, valid for `days` from now."""
        expires = int((self.clock() + timedelta(days=self.days)).timestamp())
        query = urlencode({"expires": expires, "sig": self.signature(kind, visit, lang, expires)})
        return f"/{kind}/{visit}/{lang}.{EXTENSIONS[kind]}?{query}"

    def verify(self, kind: str, visit: str, lang: str, expires: str, signature: str) -> Verdict:
        """`forbidden` for a missing or wrong signature (checked first: an unsigned request
        learns nothing, not even whether the link would have expired), then `expired`."""
        if not expires.isdigit() or not signature:
            return "forbidden"
        expected = self.signature(kind, visit, lang, int(expires))
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return "forbidden"
        if int(expires) <= self.clock().timestamp():
            return "expired"
        return "ok"

    def until(self) -> datetime:
        return self.clock() + timedelta(days=self.days)


@dataclass(frozen=True)
class SignedLinks:
    """The core's `Publisher`: links under the public URL; the feed as `webcal://`, which
    calendar apps open as a subscription rather than a one-off import."""

    public_url: str
    signer: LinkSigner

    def links(self, visit: str, lang: Lang) -> PublicLinks:
        root = self.public_url.rstrip("/")
        feed = urlsplit(root + self.signer.path("calendar", visit, lang))
        return PublicLinks(
            book=root + self.signer.path("book", visit, lang),
            calendar=urlunsplit(("webcal", *feed[1:])),
            until=self.signer.until(),
        )
