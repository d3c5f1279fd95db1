"""What the core answers, before any dialect: a view name, its data, and buttons."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from briefings.actions import Action
from briefings.languages import Lang


@dataclass(frozen=True, slots=True)
class Button:
    """A button that asks for `action` when pressed; each adapter encodes it for its platform."""

    label: str
    action: Action
    selected: bool = False


class Say:
    """A label to say, with its values, filled in at render time: only the dialect knows how
    the commands a label mentions (`{/help}`) are spelled on its platform."""

    __slots__ = ("key", "values")

    def __init__(self, key: str, **values: object) -> None:
        self.key = key
        self.values: Mapping[str, object] = values

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Say) and (self.key, self.values) == (other.key, other.values)

    def __hash__(self) -> int:
        return hash((self.key, tuple(sorted(self.values.items()))))

    def __repr__(self) -> str:
        return f"Say({self.key!r}, **{dict(self.values)!r})"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file a reply sends along (the calendar, the briefing book), built by the core.

    `caption` says in one plain line what is in the file and what is not (the events left out
    for want of a day, by name): whoever sees only the file in a chat's media list still knows
    what it holds.
    """

    filename: str
    mime_type: str
    content: bytes = field(repr=False)
    caption: str


@dataclass(frozen=True, slots=True)
class Reply:
    view: str
    lang: Lang
    data: Mapping[str, Any] = field(default_factory=dict)
    buttons: tuple[Button, ...] = ()
    # Sent before the reply's messages, with its caption; adapters send it as a document.
    attachment: Attachment | None = None
