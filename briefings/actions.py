"""Typed actions: what a button asks for (a view of a visit, with an argument), and their codec.

A button never carries a command string to be parsed back. It carries an `Action`, encoded in a
compact form that fits Telegram's 64-byte `callback_data` and Slack's `value`, and decoded on the
way in against the visits the bot knows: a payload that is forged, truncated or left over from
an older version decodes to None, and the conversation service answers it politely.
"""

import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal, get_args

View = Literal[
    "briefing",
    "day",
    "days",
    "people",
    "quotes",
    "background",
    "sources",
    "dossier",
    "visits",
    "visit",
    "partnership",
]
VIEWS: Final[tuple[View, ...]] = get_args(View)

# Bumped when the encoding changes, so that buttons from before are recognised as stale.
VERSION: Final = "a1"
# Telegram's limit on callback_data, in bytes; Slack allows more, so this bounds both.
PAYLOAD_LIMIT: Final = 64
_CODES: Final[dict[View, str]] = {
    "briefing": "b",
    "day": "d",
    "days": "D",
    "people": "p",
    "quotes": "q",
    "background": "g",
    "sources": "s",
    "dossier": "f",
    "visits": "v",
    "visit": "V",
    "partnership": "P",
}
_VIEWS_BY_CODE: Final = {code: view for view, code in _CODES.items()}
_TOKEN_LENGTH: Final = 8
_PAYLOAD: Final = re.compile(
    rf"^{VERSION}\.(?P<view>[A-Za-z])\.(?P<visit>[0-9a-f]{{{_TOKEN_LENGTH}}}|-)\.(?P<arg>[0-9]{{0,8}})$"
)


@dataclass(frozen=True, slots=True)
class Action:
    """A view of a visit (or of the partnership, when `visit` is None), with an argument:
    the day, for `day`."""

    view: View
    visit: str | None = None
    day: date | None = None


# Every reply's buttons are encoded again on every send (nine on a one-screen briefing): both
# are pure, and the visits and their days few, so each is worked out once (bounded caches).
@functools.lru_cache(maxsize=1024)
def visit_token(visit_id: str) -> str:
    """A short, stable stand-in for a visit id: the same in every process and after a restart,
    and as long whatever the id."""
    return hashlib.sha256(visit_id.encode()).hexdigest()[:_TOKEN_LENGTH]


@functools.lru_cache(maxsize=8192)
def encode(action: Action) -> str:
    visit = visit_token(action.visit) if action.visit is not None else "-"
    arg = f"{action.day:%Y%m%d}" if action.day is not None else ""
    payload = f"{VERSION}.{_CODES[action.view]}.{visit}.{arg}"
    assert len(payload.encode()) <= PAYLOAD_LIMIT  # fixed-width fields: cannot grow
    return payload


class ActionCodec:
    """Decodes payloads against the visits known now; a token of no known visit is stale."""

    def __init__(self, visit_ids: Iterable[str]) -> None:
        self._visits = {visit_token(v): v for v in visit_ids}

    def decode(self, payload: str) -> Action | None:
        match = _PAYLOAD.match(payload[: PAYLOAD_LIMIT + 1])
        if match is None:
            return None
        view = _VIEWS_BY_CODE.get(match["view"])
        if view is None:
            return None
        visit: str | None = None
        if match["visit"] != "-":
            visit = self._visits.get(match["visit"])
            if visit is None:
                return None
        day: date | None = None
        arg = match["arg"]
        if arg:
            if len(arg) != len("YYYYMMDD"):
                return None
            try:
                day = date(int(arg[:4]), int(arg[4:6]), int(arg[6:]))
            except ValueError:
                return None
        if (view == "day") != (day is not None):
            return None
        return Action(view, visit, day)
