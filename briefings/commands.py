"""The command table: text in, Reply out. One table serves every adapter, /help and menus."""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from briefings.articles import Article
from briefings.days import read_day
from briefings.dossier import Visit
from briefings.labels import label
from briefings.languages import LANGS, Lang
from briefings.partnership import Partnership
from briefings.people_search import find_people
from briefings.rendering.dialects import clean
from briefings.replies import Reply
from briefings.subscriptions import ChatRef, SubscriptionBook, parse_subscribe
from briefings.views import (
    briefing_reply,
    day_reply,
    days_reply,
    format_day,
    format_visit_dates,
    notice_reply,
    people_reply,
    sources_reply,
    subscription_reply,
    who_reply,
)

# What we echo back of a user's text; a reply never carries more of it than this.
ECHO_LIMIT = 40
# Longer input is cut before parsing: no command argument needs more.
INPUT_LIMIT = 500
# Slack's single slash command: `/briefing itinerary tuesday` means `/itinerary tuesday`.
UMBRELLA = "briefing"


@dataclass(frozen=True, slots=True)
class Context:
    """Who asks and when: the language to answer in, the injected clock, and, where the
    adapter has them, the chat and the subscription book."""

    lang: Lang
    now: datetime
    private: bool = True
    chat: ChatRef | None = None
    book: SubscriptionBook | None = None
    # How this platform spells a command: "/" in Telegram, "/briefing " under Slack's umbrella.
    command_prefix: str = "/"


@dataclass(frozen=True, slots=True, eq=False)
class Briefing:
    """What the commands know: one visit, the articles it cites and its partnership.

    Compared and hashed by identity, so that replies which depend on nothing but the dossier
    and the language can be built once per Briefing (see `_fixed`).
    """

    visit: Visit
    articles: dict[str, Article]
    partnership: Partnership

    def today(self, now: datetime) -> date:
        return now.astimezone(ZoneInfo(self.visit.timezone)).date()

    def local(self, now: datetime) -> datetime:
        return now.astimezone(ZoneInfo(self.visit.timezone))


Handler = Callable[[Briefing, Context, str], Reply]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    handler: Handler
    args_label: str | None = None

    def summary(self, lang: Lang) -> str:
        return label(f"cmd_{self.name}", lang)

    def args(self, lang: Lang) -> str | None:
        return label(self.args_label, lang) if self.args_label else None


def _echo(text: str) -> str:
    text = " ".join(clean(text).split())
    return text if len(text) <= ECHO_LIMIT else text[: ECHO_LIMIT - 1] + "…"


def _show_day(b: Briefing, ctx: Context, day: date, outside_key: str = "day_outside") -> Reply:
    if day in b.visit.days:
        return _fixed(b, "day", ctx.lang, day)
    return days_reply(
        b.visit, ctx.lang, label(outside_key, ctx.lang, day=format_day(day, ctx.lang))
    )


def itinerary(b: Briefing, ctx: Context, args: str) -> Reply:
    if not args.strip():
        today = b.today(ctx.now)
        if today in b.visit.days:
            return _fixed(b, "day", ctx.lang, today)
        return days_reply(b.visit, ctx.lang, None)
    reading = read_day(args, ctx.lang, b.local(ctx.now), b.visit.days)
    if reading.day is None:
        return days_reply(b.visit, ctx.lang, label("day_unreadable", ctx.lang, text=_echo(args)))
    return _show_day(b, ctx, reading.day)


def today(b: Briefing, ctx: Context, args: str) -> Reply:
    return _show_day(b, ctx, b.today(ctx.now), "today_outside")


def tomorrow(b: Briefing, ctx: Context, args: str) -> Reply:
    return _show_day(b, ctx, b.today(ctx.now) + timedelta(days=1), "tomorrow_outside")


def next_day(b: Briefing, ctx: Context, args: str) -> Reply:
    """The next day of the programme after today: before the visit, its first day."""
    today = b.today(ctx.now)
    upcoming = [d for d in b.visit.days if d > today]
    if upcoming:
        return _fixed(b, "day", ctx.lang, upcoming[0])
    span = format_visit_dates(b.visit, ctx.lang)
    return days_reply(b.visit, ctx.lang, label("visit_over", ctx.lang, dates=span))


@lru_cache(maxsize=128)
def _fixed(b: Briefing, view: str, lang: Lang, day: date | None = None) -> Reply:
    """Replies that no clock or user text changes, built once: the dossier is frozen, and the
    renderer, seeing the same Reply again, renders it once too."""
    if view == "briefing":
        return briefing_reply(b.visit, b.partnership, b.articles, lang)
    if view == "people":
        return people_reply(b.visit, b.articles, lang)
    if view == "sources":
        return sources_reply(b.visit, b.articles, lang)
    if view == "day" and day is not None:
        return day_reply(b.visit, b.articles, day, lang)
    raise ValueError(f"no fixed view {view!r}")


def briefing(b: Briefing, ctx: Context, args: str) -> Reply:
    return _fixed(b, "briefing", ctx.lang)


def who(b: Briefing, ctx: Context, args: str) -> Reply:
    if not args.strip():
        return notice_reply(label("who_usage", ctx.lang), ctx.lang)
    found = find_people(b.visit.people, args)
    if not found:
        return notice_reply(label("who_not_found", ctx.lang, name=_echo(args)), ctx.lang)
    return who_reply(b.visit, b.articles, found, ctx.lang)


def people(b: Briefing, ctx: Context, args: str) -> Reply:
    return _fixed(b, "people", ctx.lang)


def sources(b: Briefing, ctx: Context, args: str) -> Reply:
    return _fixed(b, "sources", ctx.lang)


_LANG_WORDS: dict[str, Lang] = {
    **{code: code for code in LANGS},
    "english": "en",
    "inglese": "en",
    "italian": "it",
    "italiano": "it",
    "korean": "ko",
    "coreano": "ko",
    "한국어": "ko",
}


def lang(b: Briefing, ctx: Context, args: str) -> Reply:
    choice = _LANG_WORDS.get(args.strip().casefold())
    if choice is None:
        return notice_reply(label("lang_usage", ctx.lang), ctx.lang)
    return Reply("notice", choice, {"text": label("lang_set", choice)}, set_lang=choice)


def subscribe(b: Briefing, ctx: Context, args: str) -> Reply:
    if ctx.book is None or ctx.chat is None:
        return notice_reply(label("subscribe_unavailable", ctx.lang), ctx.lang)
    request = parse_subscribe(args, b.visit.timezone)
    if isinstance(request, str):
        return notice_reply(label("subscribe_bad", ctx.lang, word=_echo(request)), ctx.lang)
    ctx.book.subscribe(ctx.chat, request.at, request.timezone, ctx.lang)
    headline = label("subscribed", ctx.lang, time=f"{request.at:%H:%M}", tz=request.timezone)
    return subscription_reply(
        b.visit,
        at=request.at,
        timezone=request.timezone,
        now=ctx.now,
        lang=ctx.lang,
        headline=headline,
    )


def unsubscribe(b: Briefing, ctx: Context, args: str) -> Reply:
    if ctx.book is None or ctx.chat is None:
        return notice_reply(label("subscribe_unavailable", ctx.lang), ctx.lang)
    key = "unsubscribed" if ctx.book.unsubscribe(ctx.chat) else "not_subscribed"
    return notice_reply(label(key, ctx.lang), ctx.lang)


def subscriptions(b: Briefing, ctx: Context, args: str) -> Reply:
    if ctx.book is None or ctx.chat is None:
        return notice_reply(label("subscribe_unavailable", ctx.lang), ctx.lang)
    current = ctx.book.current(ctx.chat)
    if current is None:
        return notice_reply(label("not_subscribed", ctx.lang), ctx.lang)
    headline = label(
        "subscription_now", current.lang, time=f"{current.at:%H:%M}", tz=current.timezone
    )
    return subscription_reply(
        b.visit,
        at=current.at,
        timezone=current.timezone,
        now=ctx.now,
        lang=current.lang,
        headline=headline,
    )


def help_(b: Briefing, ctx: Context, args: str) -> Reply:
    return Reply("help", ctx.lang, {"welcome": None, "commands": _command_list(ctx.lang)})


def start(b: Briefing, ctx: Context, args: str) -> Reply:
    welcome = label("welcome", ctx.lang, title=b.visit.title(ctx.lang))
    return Reply("help", ctx.lang, {"welcome": welcome, "commands": _command_list(ctx.lang)})


COMMANDS: tuple[Command, ...] = (
    Command("start", start),
    Command("help", help_),
    Command("briefing", briefing),
    Command("itinerary", itinerary, "arg_day"),
    Command("today", today),
    Command("tomorrow", tomorrow),
    Command("next", next_day),
    Command("who", who, "arg_name"),
    Command("people", people),
    Command("sources", sources),
    Command("lang", lang, "arg_lang"),
    Command("subscribe", subscribe, "arg_subscribe"),
    Command("unsubscribe", unsubscribe),
    Command("subscriptions", subscriptions),
)
_BY_NAME = {c.name: c for c in COMMANDS}


def _command_list(lang: Lang) -> list[dict[str, str | None]]:
    return [
        {"name": f"/{c.name}", "args": c.args(lang), "summary": c.summary(lang)} for c in COMMANDS
    ]


def handle(b: Briefing, ctx: Context, text: str) -> Reply:
    """Answer one message. Never raises on user input: bad input gets a short hint."""
    reply = _answer(b, ctx, text)
    if ctx.command_prefix != reply.command_prefix:
        reply = dataclasses.replace(reply, command_prefix=ctx.command_prefix)
    return reply


def _answer(b: Briefing, ctx: Context, text: str) -> Reply:
    text = clean(text[:INPUT_LIMIT]).strip()
    if not text.startswith("/"):
        return _plain_message(b, ctx, text)
    head, _, args = text[1:].partition(" ")
    name = head.split("@", 1)[0].casefold()
    if name == UMBRELLA and args.strip():
        sub, _, rest = args.strip().partition(" ")
        sub = sub.removeprefix("/").casefold()
        if sub in _BY_NAME:
            name, args = sub, rest
    command = _BY_NAME.get(name)
    if command is None:
        return notice_reply(label("unknown_command", ctx.lang, command=_echo("/" + head)), ctx.lang)
    return command.handler(b, ctx, args.strip())


def _plain_message(b: Briefing, ctx: Context, text: str) -> Reply:
    """A private chat may just name a day: `martedì?`, `what's on tuesday`, `화요일 일정`."""
    if text and ctx.private:
        reading = read_day(text, ctx.lang, b.local(ctx.now), b.visit.days)
        if reading.day is not None:
            return _show_day(b, ctx, reading.day)
    return notice_reply(label("not_understood", ctx.lang), ctx.lang)
