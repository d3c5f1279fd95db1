"""Render a Reply in a dialect: one jinja2 Environment, templates as files.

Escaping is by construction: the finalizer passes every printed value through the dialect.
Commands are spelled by the dialect too (`/help`, or `/briefing help` in Slack), never by a
rewrite of rendered text.
"""

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import jinja2
from jinja2 import pass_context
from jinja2.runtime import Context

from briefings.labels import label
from briefings.rendering.dialects import DIALECTS, ITEM_BREAK, Dialect, DialectName, Markup
from briefings.rendering.packing import pack
from briefings.replies import Attachment, Button, Reply, Say

_T = TypeVar("_T")

# Slack's limit on blocks in one message; one is kept for the buttons.
SLACK_MAX_BLOCKS = 50
# Rendered replies remembered: the fixed views in every language and dialect fit.
RECENT_RENDERS = 256
# Slack shows at most this much of a message's fallback `text` in notifications.
SLACK_FALLBACK_LIMIT = 3000


@dataclass(frozen=True, slots=True)
class Message:
    """One message as a platform will send it; buttons ride on the last message of a reply.

    In Slack `text` is the notification fallback and `sections` the message itself, one
    Block Kit section each (the Slack payload module turns them into blocks).
    """

    text: str
    dialect: DialectName
    sections: tuple[str, ...] = ()
    buttons: tuple[Button, ...] = ()
    # A file to send as this message: `text` is then its caption (Telegram's sendDocument,
    # Slack's upload with an initial comment).
    attachment: Attachment | None = None


class Renderer:
    def __init__(self, templates: Path | None = None) -> None:
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates or Path(__file__).with_name("templates")),
            undefined=jinja2.StrictUndefined,
            # HTML autoescaping would be wrong for Slack and plain text; `_finalize` escapes
            # every value for the dialect at hand instead.
            autoescape=False,  # noqa: S701
            finalize=_finalize,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            # The templates ship with the package: no file's date is looked up at each reply.
            auto_reload=False,
        )
        self._env.filters["b"] = _bold
        self._env.filters["i"] = _italic
        self._env.globals["t"] = _label
        self._env.globals["say"] = _say
        self._env.globals["cmd"] = _command
        self._env.globals["cut"] = Markup(ITEM_BREAK)
        self._recent: OrderedDict[tuple[int, DialectName], tuple[Reply, tuple[Message, ...]]] = (
            OrderedDict()
        )

    def warm(self) -> None:
        """Compile every template now rather than on the first reply that needs it (a serving
        process calls this before its first update)."""
        for name in self._env.list_templates(extensions=["j2"]):
            self._env.get_template(name)

    @property
    def cached(self) -> int:
        """How many renderings are kept (at most RECENT_RENDERS)."""
        return len(self._recent)

    def items(self, reply: Reply, dialect: DialectName) -> list[str]:
        """The reply's items in the dialect, before packing into messages."""
        template = self._env.get_template(f"{reply.view}.j2")
        text = template.render(**reply.data, lang=reply.lang, dialect=DIALECTS[dialect])
        return [item.strip("\n") for item in text.split(ITEM_BREAK) if item.strip()]

    def render(self, reply: Reply, dialect: DialectName) -> list[Message]:
        """The reply as messages; the same Reply object asked again is answered from memory."""
        key = (id(reply), dialect)
        cached = self._recent.get(key)
        # The entry holds the reply itself, so its id cannot be reused while it is remembered.
        if cached is not None and cached[0] is reply:
            self._recent.move_to_end(key)
            return list(cached[1])
        messages = self._render(reply, dialect)
        self._recent[key] = (reply, tuple(messages))
        if len(self._recent) > RECENT_RENDERS:
            self._recent.popitem(last=False)
        return messages

    def _render(self, reply: Reply, dialect: DialectName) -> list[Message]:
        spec = DIALECTS[dialect]
        items = self.items(reply, dialect)
        if reply.attachment is not None and items:
            # The file goes first, captioned with the reply's first item (its one line on what
            # the file holds); whatever else the reply says follows as messages of its own.
            caption, rest = items[0], items[1:]
            sections = (caption,) if dialect == "slack" else ()
            document = Message(caption, dialect, sections, attachment=reply.attachment)
            more = self._messages(rest, spec, dialect, reply.buttons) if rest else []
            return [document, *more]
        return self._messages(items, spec, dialect, reply.buttons)

    def _messages(
        self, items: list[str], spec: Dialect, dialect: DialectName, buttons: tuple[Button, ...]
    ) -> list[Message]:
        if dialect == "slack":
            return _slack_messages(items, spec, buttons)
        chunks = pack(items, spec.limit, spec.measure)
        return [
            Message(chunk, dialect, buttons=buttons if last else ())
            for last, chunk in _mark_last(chunks)
        ]


def _slack_messages(items: list[str], spec: Dialect, buttons: tuple[Button, ...]) -> list[Message]:
    sections = [s for item in items for s in pack([item], spec.limit, spec.measure)]
    # A block stays free in every message: the last one's for the buttons, any other's for
    # the adapter's own (Slack's Share button).
    per_message = SLACK_MAX_BLOCKS - 1
    groups = [sections[i : i + per_message] for i in range(0, len(sections), per_message)]
    return [
        Message(
            pack(group, SLACK_FALLBACK_LIMIT, len, joiner="\n")[0],
            "slack",
            tuple(group),
            buttons if last else (),
        )
        for last, group in _mark_last(groups)
    ]


def _mark_last(values: list[_T]) -> list[tuple[bool, _T]]:
    return [(n == len(values) - 1, v) for n, v in enumerate(values)]


@pass_context
def _finalize(context: Context, value: object) -> str:
    if isinstance(value, Markup):
        return value
    dialect: Dialect = context["dialect"]
    return dialect.escape("" if value is None else str(value))


@pass_context
def _bold(context: Context, value: object) -> Markup:
    dialect: Dialect = context["dialect"]
    return dialect.bold(str(value))


@pass_context
def _italic(context: Context, value: object) -> Markup:
    dialect: Dialect = context["dialect"]
    return dialect.italic(str(value))


@pass_context
def _label(context: Context, key: str, **values: object) -> str:
    dialect: Dialect = context["dialect"]
    return label(key, context["lang"], dialect.command, **values)


@pass_context
def _say(context: Context, say: Say) -> str:
    dialect: Dialect = context["dialect"]
    return label(say.key, context["lang"], dialect.command, **say.values)


@pass_context
def _command(context: Context, name: str) -> str:
    dialect: Dialect = context["dialect"]
    return dialect.command(name)
