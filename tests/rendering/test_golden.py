"""Golden-text tests: the exact text of the one-screen briefing at each phase of the visit, of
each digest kind, of the dossier and of one day, in each language.

A change to a template, a label or the dossier shows up here as a reviewable diff. Regenerate
with `pytest tests/rendering/test_golden.py --update-golden` and read the diff before committing.
"""

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.slack.payloads import post_message as slack_post_message
from bot.telegram.payloads import send_message as telegram_send_message
from briefings.digests import digest_reply
from briefings.languages import Lang
from briefings.library import Library
from briefings.rendering.dialects import DialectName
from briefings.rendering.renderer import Renderer
from briefings.replies import Reply
from briefings.schedule import DEFAULT_TIME, Digest, DigestKind, due_at
from tests.core.talk import AUGUST, outcome

GOLDEN = Path(__file__).resolve().parent / "golden"
SEPARATOR = "\n----- message -----\n"
SEOUL = ZoneInfo("Asia/Seoul")
PHASES = {
    "before": datetime(2024, 8, 20, 12, 0, tzinfo=SEOUL),
    "during": datetime(2024, 8, 27, 9, 0, tzinfo=SEOUL),
    "after": datetime(2024, 9, 5, 12, 0, tzinfo=SEOUL),
}
DIGESTS: dict[str, tuple[DigestKind, date]] = {
    "eve": ("eve", date(2024, 8, 25)),
    "morning-27": ("morning", date(2024, 8, 27)),
    "morning-28": ("morning", date(2024, 8, 28)),
    "recap": ("recap", date(2024, 8, 29)),
}

Make = Callable[[Library, Lang], Reply]


def command(text: str, phase: str) -> Make:
    return lambda library, lang: outcome(library, text, lang, PHASES[phase]).reply


def digest(name: str) -> Make:
    kind, day = DIGESTS[name]

    def make(library: Library, lang: Lang) -> Reply:
        visit = library.visit(AUGUST)
        assert visit is not None
        sent = Digest(AUGUST, kind, day)
        at = due_at(sent, DEFAULT_TIME, visit.timezone)
        partnership = library.partnership_of(visit)
        return digest_reply(sent, visit, partnership, library.articles, lang, at=at)

    return make


CASES: list[tuple[str, Make, Lang, DialectName]] = [
    *(
        (f"briefing-{phase}", command("/briefing", phase), lang, "plain")
        for phase in PHASES
        for lang in ("en", "ko")
    ),
    ("briefing-during", command("/briefing", "during"), "it", "plain"),
    ("briefing-during", command("/briefing", "during"), "en", "telegram"),
    ("briefing-during", command("/briefing", "during"), "ko", "slack"),
    *((f"digest-{name}", digest(name), lang, "plain") for name in DIGESTS for lang in ("en", "ko")),
    *(("dossier", command("/dossier", "after"), lang, "plain") for lang in ("en", "it", "ko")),
    *(("day", command("/itinerary day 2", "during"), lang, "plain") for lang in ("en", "it", "ko")),
    ("day", command("/itinerary day 2", "during"), "en", "telegram"),
    ("day", command("/itinerary day 2", "during"), "it", "slack"),
]


def _render(reply: Reply, renderer: Renderer, dialect: DialectName) -> str:
    messages = renderer.render(reply, dialect)
    if dialect == "telegram":
        parts = [
            json.dumps(telegram_send_message(m, 0), ensure_ascii=False, indent=1) for m in messages
        ]
    elif dialect == "slack":
        parts = [
            json.dumps(slack_post_message(m, "C1"), ensure_ascii=False, indent=1) for m in messages
        ]
    else:
        parts = [m.text for m in messages]
    return SEPARATOR.join(parts) + "\n"


@pytest.mark.parametrize(
    ("name", "make", "lang", "dialect"), CASES, ids=[f"{c[0]}.{c[2]}.{c[3]}" for c in CASES]
)
def test_golden(
    request: pytest.FixtureRequest,
    library: Library,
    renderer: Renderer,
    name: str,
    make: Make,
    lang: Lang,
    dialect: DialectName,
) -> None:
    suffix = "txt" if dialect == "plain" else "json"
    path = GOLDEN / f"{name}.{lang}.{dialect}.{suffix}"
    actual = _render(make(library, lang), renderer, dialect)
    if request.config.getoption("--update-golden"):
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path.name} is missing: run with --update-golden and review it"
    assert actual == path.read_text(encoding="utf-8")


def test_every_golden_file_is_used() -> None:
    used = {f"{name}.{lang}.{dialect}" for name, _, lang, dialect in CASES}
    stale = {p.name.rsplit(".", 1)[0] for p in GOLDEN.iterdir()} - used
    assert stale == set()
