"""The scheduled digests of a visit, when each falls due for a subscriber, and what it says.

Eve preview the day before the visit starts, the morning programme on each day of it, a recap
the day after it ends; each at the subscriber's chosen local time in their own time zone, so
a 07:30 Europe/Rome subscription fires at 07:30 in Rome whatever daylight saving does.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from briefings.articles import Article
from briefings.dossier import Visit
from briefings.labels import label
from briefings.languages import Lang
from briefings.replies import Reply
from briefings.views import briefing_reply, day_reply, format_day

DigestKind = Literal["eve", "morning", "recap"]
DEFAULT_TIME = time(7, 30)


@dataclass(frozen=True, slots=True)
class Digest:
    visit_id: str
    kind: DigestKind
    day: date

    @property
    def key(self) -> str:
        """Stable across restarts and processes: the ledger's half of the unique delivery row."""
        return f"{self.visit_id}:{self.kind}:{self.day.isoformat()}"


def digests(visit: Visit) -> list[Digest]:
    eve = Digest(visit.id, "eve", visit.start - timedelta(days=1))
    mornings = [Digest(visit.id, "morning", d) for d in visit.days]
    recap = Digest(visit.id, "recap", visit.end + timedelta(days=1))
    return [eve, *mornings, recap]


def due_at(digest: Digest, at: time, timezone: str) -> datetime:
    """The UTC instant of `at` local time on the digest's day; DST-proof through zoneinfo.

    A local time that does not exist that day (skipped by a spring-forward) moves forward with
    the clock, as zoneinfo's fold=0 resolution does.
    """
    local = datetime.combine(digest.day, at, tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


def digest_reply(digest: Digest, visit: Visit, articles: dict[str, Article], lang: Lang) -> Reply:
    if digest.kind == "eve":
        notice = label("digest_eve", lang, day=format_day(visit.start, lang))
        return day_reply(visit, articles, visit.start, lang, notice=notice)
    if digest.kind == "morning":
        notice = label("digest_morning", lang)
        return day_reply(visit, articles, digest.day, lang, notice=notice)
    notice = label("digest_recap", lang)
    return briefing_reply(visit, articles, lang, notice=notice)


def parse_time(text: str) -> time | None:
    """`7:30`, `07:30`, `0730`, `7.30`, `7h30`: a time of day, or None."""
    cleaned = text.strip().lower().replace(".", ":").replace("h", ":")
    if cleaned.isdigit() and len(cleaned) in (3, 4):
        cleaned = f"{cleaned[:-2]}:{cleaned[-2:]}"
    hours, sep, minutes = cleaned.partition(":")
    if not sep:
        return None
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) <= 2):
        return None
    h, m = int(hours), int(minutes)
    return time(h, m) if h < 24 and m < 60 else None
