"""When digests fall due: pure time arithmetic, no content.

Eve preview the day before a visit starts, the morning programme on each of its days, a recap
the day after it ends; each at the subscriber's chosen local time in their own time zone, so a
07:30 Europe/Rome subscription fires at 07:30 in Rome whatever daylight saving does. A visit
whose days the sources do not state has no digests.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

DigestKind = Literal["eve", "morning", "recap"]
DIGEST_KINDS: tuple[DigestKind, ...] = ("eve", "morning", "recap")
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

    @classmethod
    def parse(cls, key: str) -> "Digest":
        visit_id, kind, day = key.rsplit(":", 2)
        if kind not in DIGEST_KINDS:
            raise ValueError(f"not a digest kind: {kind!r}")
        return cls(visit_id, kind, date.fromisoformat(day))


def plan(visit_id: str, days: tuple[date, ...]) -> list[Digest]:
    """The digests of a visit held on `days` (none when its days are not known)."""
    if not days:
        return []
    eve = Digest(visit_id, "eve", days[0] - timedelta(days=1))
    mornings = [Digest(visit_id, "morning", d) for d in days]
    recap = Digest(visit_id, "recap", days[-1] + timedelta(days=1))
    return [eve, *mornings, recap]


def due_at(digest: Digest, at: time, timezone: str) -> datetime:
    """The UTC instant of `at` local time on the digest's day; DST-proof through zoneinfo.

    A local time that does not exist that day (skipped by a spring-forward) moves forward with
    the clock, as zoneinfo's fold=0 resolution does.
    """
    local = datetime.combine(digest.day, at, tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


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
