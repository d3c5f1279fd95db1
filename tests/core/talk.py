"""Talking to the command table directly: a scope for the August visit, answers as plain text."""

from datetime import datetime

from briefings.commands import Outcome, Scope, answer
from briefings.languages import Lang
from briefings.library import Library
from briefings.ports import ChatState
from briefings.rendering.renderer import Renderer

AUGUST = "turin-gwangju-2024"
APRIL = "kang-turin-2024-04"


def scope(
    library: Library,
    lang: Lang,
    now: datetime,
    *,
    private: bool = True,
    visit: str = AUGUST,
    state: ChatState | None = None,
    persistent: bool = True,
) -> Scope:
    chosen = library.visit(visit)
    assert chosen is not None
    return Scope(library, chosen, lang, now, state or ChatState(), private, persistent)


def outcome(library: Library, text: str, lang: Lang, now: datetime, **kwargs: object) -> Outcome:
    return answer(scope(library, lang, now, **kwargs), text)  # type: ignore[arg-type]


def plain(renderer: Renderer, result: Outcome) -> str:
    return "\n".join(m.text for m in renderer.render(result.reply, "plain"))
