"""A validator of Telegram Bot API HTML (`parse_mode: HTML`), for tests only.

Telegram rejects a whole `sendMessage` with "can't parse entities" when one tag or entity is off,
so a reply that renders fine in the console can still fail in production. These checks follow
https://core.telegram.org/bots/api#html-style and err on the strict side: markup this accepts,
Telegram accepts.

html.parser is lenient where Telegram is not (it reads `&amp` without `;`, `</ b>` as `</b>` and
drops `</>`), so a lexical pass over the raw markup checks every `<` and `&` first; the parser
then checks tag names, attributes and nesting, and yields the text Telegram would count.
"""

import re
from html.parser import HTMLParser

# Tag -> attributes it may carry.
ALLOWED_TAGS: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "span": frozenset({"class"}),
    "tg-spoiler": frozenset(),
    "a": frozenset({"href"}),
    "tg-emoji": frozenset({"emoji-id"}),
    "code": frozenset({"class"}),
    "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
}
NAMED_ENTITIES: dict[str, str] = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

_ATTRIBUTE = r"""\s+[a-zA-Z][-a-zA-Z0-9]*(?:\s*=\s*(?:"[^"<]*"|'[^'<]*'|[^\s"'=<>`]+))?"""
_TAG = re.compile(rf"<(?:[a-zA-Z][-a-zA-Z0-9]*(?:{_ATTRIBUTE})*\s*/?|/[a-zA-Z][-a-zA-Z0-9]*\s*)>")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);")
_LANGUAGE_CLASS = re.compile(r"language-[^\s\"'<>&]+")
_MAX_CODE_POINT = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)


def validate(html: str) -> list[str]:
    """Every reason Telegram would refuse `html`; an empty list means it is valid."""
    return _Parser.run(html).problems


def telegram_text(html: str) -> str:
    """The text Telegram shows once tags are removed and entities replaced."""
    return "".join(_Parser.run(html).text)


def telegram_length(html: str) -> int:
    """The length Telegram's 4096 limit applies to: UTF-16 code units of the parsed text."""
    return utf16_length(telegram_text(html))


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _lexical_problems(html: str) -> list[str]:
    problems = []
    for found in re.finditer("[<&]", html):
        at = found.start()
        if html[at] == "<" and not _TAG.match(html, at):
            problems.append(f"raw '<' at offset {at}: {html[at : at + 20]!r}")
        elif html[at] == "&" and not _ENTITY.match(html, at):
            problems.append(
                f"bare '&' or unsupported entity at offset {at}: {html[at : at + 12]!r}"
            )
    return problems


class _Parser(HTMLParser):
    def __init__(self) -> None:
        # Entities must reach us unconverted: only four named ones are allowed.
        super().__init__(convert_charrefs=False)
        self.problems: list[str] = []
        self.text: list[str] = []
        self.open: list[str] = []

    @classmethod
    def run(cls, html: str) -> "_Parser":
        parser = cls()
        parser.problems.extend(_lexical_problems(html))
        try:
            parser.feed(html)
            parser.close()
        except Exception as exc:  # a validator reports; it never raises
            parser.problems.append(f"unparseable: {exc!r}")
        parser.problems.extend(f"unclosed <{tag}>" for tag in reversed(parser.open))
        return parser

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}> is not supported")
        else:
            self._check_attributes(tag, attrs)
            self._check_nesting(tag)
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"self-closing <{tag}/> is not supported")

    def handle_endtag(self, tag: str) -> None:
        if not self.open:
            self.problems.append(f"</{tag}> closes nothing")
        elif self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.open[-1]}>: tags cross")
            if tag in self.open:
                del self.open[len(self.open) - 1 - self.open[::-1].index(tag)]
        else:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        for char in "<>":
            if char in data:
                self.problems.append(f"raw {char!r} in text: {data[:40]!r}")
        if "&" in data:
            self.problems.append(f"bare '&' in text: {data[:40]!r}")
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in NAMED_ENTITIES:
            self.problems.append(f"named entity &{name}; is not supported")
            self.text.append(f"&{name};")
        else:
            self.text.append(NAMED_ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        code = int(name[1:], 16) if name[:1] in "xX" else int(name)
        if code == 0 or code > _MAX_CODE_POINT or code in _SURROGATES:
            self.problems.append(f"numeric entity &#{name}; is not a character")
            return
        self.text.append(chr(code))

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"comment or declaration <!{data[:20]}> is not supported")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"declaration <!{decl[:20]}> is not supported")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"declaration <![{data[:20]}> is not supported")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"processing instruction <?{data[:20]}> is not supported")

    def _check_attributes(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = [name for name, _ in attrs]
        values = dict(attrs)
        for name in names:
            if name not in ALLOWED_TAGS[tag]:
                self.problems.append(f"<{tag}> may not have attribute {name!r}")
        if len(set(names)) != len(names):
            self.problems.append(f"<{tag}> repeats an attribute")
        if tag == "a" and not values.get("href"):
            self.problems.append("<a> needs a non-empty href")
        if tag == "span" and values.get("class") != "tg-spoiler":
            self.problems.append('<span> needs class="tg-spoiler"')
        if tag == "tg-emoji" and not (values.get("emoji-id") or "").isdigit():
            self.problems.append("<tg-emoji> needs a numeric emoji-id")
        if tag == "code" and "class" in values:
            if not _LANGUAGE_CLASS.fullmatch(values["class"] or ""):
                self.problems.append('<code> class must be "language-…"')
            elif not self.open or self.open[-1] != "pre":
                self.problems.append("a language is only allowed on <code> directly in <pre>")
        if tag == "blockquote" and values.get("expandable") not in (None, ""):
            self.problems.append("expandable takes no value")

    def _check_nesting(self, tag: str) -> None:
        if "code" in self.open:
            self.problems.append(f"<{tag}> inside <code>: code holds no other entity")
        elif "pre" in self.open and (tag != "code" or self.open[-1] != "pre"):
            self.problems.append(f"<{tag}> inside <pre>: only one <code> may be there")
        if tag in {"blockquote", "a", "pre"} and tag in self.open:
            self.problems.append(f"<{tag}> may not be nested in another <{tag}>")
