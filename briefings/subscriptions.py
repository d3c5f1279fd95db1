"""Reading `/subscribe [HH:MM] [time zone]`: a time of day and an IANA zone, in either order."""

from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from briefings.schedule import DEFAULT_TIME, parse_time


@dataclass(frozen=True, slots=True)
class SubscribeRequest:
    at: time
    timezone: str


def valid_timezone(name: str) -> bool:
    """An IANA name such as Europe/Rome or Asia/Seoul (not an abbreviation like CET)."""
    if "/" not in name and name != "UTC":
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_subscribe(args: str, default_timezone: str) -> SubscribeRequest | str:
    """`[HH:MM] [time zone]` in either order; on error, the word we could not read."""
    at, timezone = DEFAULT_TIME, default_timezone
    for word in args.split():
        parsed = parse_time(word)
        if parsed is not None:
            at = parsed
            continue
        candidate = _canonical_zone(word)
        if candidate is None:
            return word
        timezone = candidate
    return SubscribeRequest(at, timezone)


def _canonical_zone(word: str) -> str | None:
    # Users type `europe/rome`; zone names are case-sensitive on disk.
    candidate = "/".join(part[:1].upper() + part[1:] for part in word.split("/"))
    for name in (word, candidate, candidate.title()):
        if valid_timezone(name):
            return name
    return None
