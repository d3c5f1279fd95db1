"""What a command answers, before any dialect: a view name, its data, and navigation."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from briefings.languages import Lang


@dataclass(frozen=True, slots=True)
class Button:
    """A button that runs a command when pressed.

    `command` must fit Telegram's 64-byte callback data.
    """

    label: str
    command: str
    selected: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    view: str
    lang: Lang
    data: Mapping[str, Any] = field(default_factory=dict)
    buttons: tuple[Button, ...] = ()
    # An effect for the adapter to persist: the chat chose a language.
    set_lang: Lang | None = None
    # How the asker's platform spells commands ("/briefing " in Slack): mentions of `/help` and
    # the like in the text are written that way.
    command_prefix: str = "/"
