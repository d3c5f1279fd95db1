"""Golden-text tests: the exact text of `/briefing` and of one day, in each language.

A change to a template, a label or the dossier shows up here as a reviewable diff. Regenerate
with `pytest tests/rendering/test_golden.py --update-golden` and read the diff before committing.
"""

import json
from pathlib import Path

import pytest

from bot.slack.payloads import post_message as slack_post_message
from bot.telegram.payloads import send_message as telegram_send_message
from briefings.commands import Briefing, Context, handle
from briefings.languages import Lang
from briefings.rendering import Renderer
from briefings.rendering.dialects import DialectName

from ..conftest import DURING

GOLDEN = Path(__file__).resolve().parent / "golden"
SEPARATOR = "\n----- message -----\n"

CASES = (
    [("briefing", "/briefing", lang, "plain") for lang in ("en", "it", "ko")]
    + [("day", "/itinerary day 2", lang, "plain") for lang in ("en", "it", "ko")]
    + [
        ("day", "/itinerary day 2", "en", "telegram"),
        ("day", "/itinerary day 2", "it", "slack"),
    ]
)


def _render(
    briefing: Briefing, renderer: Renderer, text: str, lang: Lang, dialect: DialectName
) -> str:
    prefix = "/briefing " if dialect == "slack" else "/"  # as each adapter asks
    context = Context(lang, DURING, command_prefix=prefix)
    messages = renderer.render(handle(briefing, context, text), dialect)
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


@pytest.mark.parametrize(("name", "text", "lang", "dialect"), CASES)
def test_golden(
    request: pytest.FixtureRequest,
    briefing: Briefing,
    renderer: Renderer,
    name: str,
    text: str,
    lang: Lang,
    dialect: DialectName,
) -> None:
    suffix = "txt" if dialect == "plain" else "json"
    path = GOLDEN / f"{name}.{lang}.{dialect}.{suffix}"
    actual = _render(briefing, renderer, text, lang, dialect)
    if request.config.getoption("--update-golden"):
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path.name} is missing: run with --update-golden and review it"
    assert actual == path.read_text(encoding="utf-8")
