"""The command table: what each command answers, and which changes to the chat it asks for.

One table serves every adapter, /help and the platforms' menus. Handlers are pure: they read a
`Scope` (the chat's visit, language, clock and state) and return a reply plus the effects the
conversation service should apply (and may refuse: who may change a group's settings is its
call, not theirs).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

from briefings.actions import Action, View
from briefings.book import book_attachment
from briefings.calendar import calendar_attachment
from briefings.dates import format_day, format_visit_dates
from briefings.days import read_day
from briefings.dossier import Visit
from briefings.knowledge import known_articles
from briefings.labels import label
from briefings.languages import LANGS, Lang
from briefings.library import Library, local_now, local_today
from briefings.people_search import find_people
from briefings.ports import ChatState, Publisher
from briefings.rendering.dialects import UMBRELLA, clean
from briefings.replies import Attachment, Reply, Say
from briefings.subscriptions import parse_subscribe
from briefings.summary import summary_reply
from briefings.views import (
    background_reply,
    day_reply,
    days_reply,
    dossier_reply,
    help_reply,
    notice_reply,
    partnership_reply,
    people_reply,
    quotes_reply,
    sources_reply,
    subscription_reply,
    visits_reply,
    who_reply,
)

# What we echo back of a user's text; a reply never carries more of it than this.
ECHO_LIMIT: Final = 40
# Longer input is cut before parsing: no command argument needs more.
INPUT_LIMIT: Final = 500
# Replies that depend only on the dossier and the language, kept built: enough for every fixed
# view of a few dozen visits in three languages, and bounded however many visits there are.
FIXED_REPLIES: Final = 512


@dataclass(frozen=True, slots=True)
class SetLang:
    lang: Lang


@dataclass(frozen=True, slots=True)
class SetVisit:
    visit: str | None


@dataclass(frozen=True, slots=True)
class Subscribe:
    partnership: str
    at: time
    timezone: str


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    pass


Effect = SetLang | SetVisit | Subscribe | Unsubscribe


@dataclass(frozen=True, slots=True)
class Outcome:
    """A reply and what the chat asked to change; nothing changes unless the service agrees."""

    reply: Reply
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True, slots=True)
class Scope:
    """What a command knows when it answers."""

    library: Library
    visit: Visit
    lang: Lang
    now: datetime
    state: ChatState
    # A private chat may just name a day; in a group only commands are read.
    private: bool = True
    # Whether this chat can keep settings and receive digests (the console cannot).
    persistent: bool = True
    # False while storage is down: `state` is then the defaults, not what the chat chose, and
    # a command that reports stored settings says it cannot rather than answer from them.
    stored: bool = True
    # Signs links to the book and calendar feed when they are served over HTTP.
    publisher: Publisher | None = None

    @property
    def today(self) -> date:
        return local_today(self.visit, self.now)


Handler = Callable[[Scope, str], Reply | Outcome]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    handler: Handler
    args_label: str | None = None

    def summary(self, lang: Lang) -> str:
        return label(f"cmd_{self.name}", lang)

    def args(self, lang: Lang) -> str | None:
        return label(self.args_label, lang) if self.args_label else None


def echo(text: str) -> str:
    text = " ".join(clean(text).split())
    return text if len(text) <= ECHO_LIMIT else text[: ECHO_LIMIT - 1] + "…"


# --- fixed replies ---------------------------------------------------------------------------


@lru_cache(maxsize=FIXED_REPLIES)
def fixed(
    library: Library, action: Action, lang: Lang, known: frozenset[str], today: date | None = None
) -> Reply:
    """Replies that only the dossier, the articles known by now and (for the briefing) the
    day decide, built once for each: the dossier is frozen, and the renderer, seeing the same
    Reply again, renders it once too."""
    visit = library.visit(action.visit)
    if action.view == "visits" or visit is None:
        raise ValueError(f"no fixed view for {action}")
    articles = library.articles
    partnership = library.partnership_of(visit)
    if action.view == "day" and action.day is not None:
        return day_reply(visit, articles, action.day, lang, known=known)
    if action.view == "days":
        return days_reply(visit, lang, None)
    if action.view == "people":
        return people_reply(visit, articles, lang)
    if action.view == "sources":
        return sources_reply(visit, articles, lang)
    if action.view == "quotes":
        return quotes_reply(visit, articles, lang, known)
    if action.view == "background":
        return background_reply(visit, partnership, articles, lang)
    if action.view == "dossier":
        return dossier_reply(visit, partnership, articles, lang, known)
    if action.view == "partnership":
        return partnership_reply(partnership, library.listed(partnership.id), articles, lang)
    if today is None:
        raise ValueError("the briefing reads the clock: give the day")
    moment = datetime.combine(today, time(12), tzinfo=ZoneInfo(visit.timezone))
    return summary_reply(visit, partnership, articles, moment, lang, known=known)


def show(scope: Scope, action: Action) -> Reply:
    """What a button or a command asking for one view answers: the visit in the action."""
    if action.view == "visits":
        return _visits(scope)
    visit = scope.library.visit(action.visit) or scope.visit
    if action.view == "day" and (action.day is None or action.day not in visit.days):
        return _no_such_day(scope, visit, action.day)
    if action.view in ("day", "days") and not visit.dated:
        return _days_not_stated(scope, visit)
    known = known_articles(scope.library.articles, scope.now)
    today = local_today(visit, scope.now) if action.view == "briefing" else None
    asked = Action(action.view, visit.id, action.day)
    return fixed(scope.library, asked, scope.lang, known, today)


def _visits(scope: Scope) -> Reply:
    visits = scope.library.listed(scope.visit.partnership)
    return visits_reply(visits, scope.visit, scope.state.visit, scope.now, scope.lang)


def _days_not_stated(scope: Scope, visit: Visit) -> Reply:
    text = Say(
        "days_not_stated",
        title=visit.title(scope.lang),
        dates=format_visit_dates(visit, scope.lang),
    )
    return notice_reply(text, scope.lang, visit=visit)


def _no_such_day(scope: Scope, visit: Visit, day: date | None, key: str = "day_outside") -> Reply:
    if not visit.dated:
        return _days_not_stated(scope, visit)
    problem = Say(key, day=format_day(day, scope.lang)) if day else None
    return days_reply(visit, scope.lang, problem)


# --- the commands ----------------------------------------------------------------------------


def _day(scope: Scope, day: date, outside: str = "day_outside") -> Reply:
    if day in scope.visit.days:
        return show(scope, Action("day", scope.visit.id, day))
    return _no_such_day(scope, scope.visit, day, outside)


def itinerary(scope: Scope, args: str) -> Reply:
    visit = scope.visit
    if not visit.dated:
        return _days_not_stated(scope, visit)
    if not args.strip():
        if scope.today in visit.days:
            return _day(scope, scope.today)
        return show(scope, Action("days", visit.id))
    local = local_now(visit, scope.now)
    reading = read_day(args, scope.lang, local, visit.days)
    if reading.day is None:
        problem = Say("day_unreadable", text=echo(args))
        return days_reply(visit, scope.lang, problem)
    return _day(scope, reading.day)


def today(scope: Scope, args: str) -> Reply:
    if not scope.visit.dated:
        return _days_not_stated(scope, scope.visit)
    return _day(scope, scope.today, "today_outside")


def tomorrow(scope: Scope, args: str) -> Reply:
    if not scope.visit.dated:
        return _days_not_stated(scope, scope.visit)
    return _day(scope, scope.today + timedelta(days=1), "tomorrow_outside")


def next_day(scope: Scope, args: str) -> Reply:
    """The next day of the programme after today: before the visit, its first day."""
    visit = scope.visit
    if not visit.dated:
        return _days_not_stated(scope, visit)
    upcoming = [d for d in visit.days if d > scope.today]
    if upcoming:
        return _day(scope, upcoming[0])
    dates = format_visit_dates(visit, scope.lang)
    return days_reply(visit, scope.lang, Say("visit_over", dates=dates))


def shows(view: View) -> Handler:
    """A command that shows one view of the chat's visit, as its button does."""

    def handler(scope: Scope, args: str) -> Reply:
        return show(scope, Action(view, scope.visit.id))

    return handler


def who(scope: Scope, args: str) -> Reply:
    if not args.strip():
        return notice_reply(Say("who_usage"), scope.lang)
    found = find_people(scope.visit.people, args)
    if not found:
        text = Say("who_not_found", name=echo(args))
        return notice_reply(text, scope.lang, visit=scope.visit)
    return who_reply(scope.visit, scope.library.articles, found, scope.lang)


def visits(scope: Scope, args: str) -> Reply:
    return _visits(scope)


# Words that give the choice of visit back to the clock.
_FOLLOW_CLOCK = frozenset({"auto", "automatic", "automatica", "automatico", "자동"})


def visit(scope: Scope, args: str) -> Reply | Outcome:
    words = args.strip()
    if not words:
        return _visits(scope)
    if words.casefold() in _FOLLOW_CLOCK:
        current = scope.library.current(scope.now, scope.visit.partnership)
        text = Say("visit_follows_clock", title=current.title(scope.lang))
        return Outcome(notice_reply(text, scope.lang, visit=current), (SetVisit(None),))
    candidates = scope.library.listed(scope.visit.partnership)
    found = scope.library.find(words, candidates)
    if len(found) != 1:
        key = "visit_not_found" if not found else "visit_ambiguous"
        text = Say(key, text=echo(words))
        return visits_reply(
            found or candidates, scope.visit, scope.state.visit, scope.now, scope.lang, problem=text
        )
    chosen = found[0]
    reply = show(scope, Action("briefing", chosen.id))
    return Outcome(reply, (SetVisit(chosen.id),))


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


def lang(scope: Scope, args: str) -> Reply | Outcome:
    choice = _LANG_WORDS.get(args.strip().casefold())
    if choice is None:
        return notice_reply(Say("lang_usage"), scope.lang)
    return Outcome(notice_reply(Say("lang_set"), choice), (SetLang(choice),))


def subscribe(scope: Scope, args: str) -> Reply | Outcome:
    if not scope.persistent:
        return notice_reply(Say("subscribe_unavailable"), scope.lang)
    request = parse_subscribe(args, scope.visit.timezone)
    if isinstance(request, str):
        return notice_reply(Say("subscribe_bad", word=echo(request)), scope.lang)
    headline = Say("subscribed", time=f"{request.at:%H:%M}", tz=request.timezone)
    partnership_id = scope.visit.partnership
    reply = subscription_reply(
        scope.library.plan(partnership_id),
        scope.library,
        at=request.at,
        timezone=request.timezone,
        now=scope.now,
        lang=scope.lang,
        headline=headline,
    )
    return Outcome(reply, (Subscribe(partnership_id, request.at, request.timezone),))


def unsubscribe(scope: Scope, args: str) -> Reply | Outcome:
    if not scope.persistent:
        return notice_reply(Say("subscribe_unavailable"), scope.lang)
    if not scope.stored:
        return notice_reply(Say("storage_unavailable"), scope.lang)
    if scope.state.subscription is None:
        return notice_reply(Say("not_subscribed"), scope.lang)
    return Outcome(notice_reply(Say("unsubscribed"), scope.lang), (Unsubscribe(),))


def subscriptions(scope: Scope, args: str) -> Reply:
    if not scope.persistent:
        return notice_reply(Say("subscribe_unavailable"), scope.lang)
    if not scope.stored:
        return notice_reply(Say("storage_unavailable"), scope.lang)
    current = scope.state.subscription
    if current is None:
        return notice_reply(Say("not_subscribed"), scope.lang)
    headline = Say("subscription_now", time=f"{current.at:%H:%M}", tz=current.timezone)
    return subscription_reply(
        scope.library.plan(current.partnership),
        scope.library,
        at=current.at,
        timezone=current.timezone,
        now=scope.now,
        lang=scope.lang,
        headline=headline,
        problem=scope.state.problem,
    )


def _export(scope: Scope, attachment: Attachment) -> Reply:
    """The file, then (when the bot serves them) signed links to the book and the feed."""
    links = None
    if scope.publisher is not None:
        signed = scope.publisher.links(scope.visit.id, scope.lang)
        links = {
            "book": signed.book,
            "calendar": signed.calendar,
            "until": format_day(signed.until.date(), scope.lang),
        }
    data = {"caption": attachment.caption, "links": links}
    return Reply("export", scope.lang, data, attachment=attachment)


def calendar(scope: Scope, args: str) -> Reply:
    visit, library = scope.visit, scope.library
    known = known_articles(library.articles, scope.now)
    partnership_ = library.partnership_of(visit)
    attachment = calendar_attachment(visit, partnership_, library.articles, scope.lang, known=known)
    return _export(scope, attachment)


def book(scope: Scope, args: str) -> Reply:
    visit, library = scope.visit, scope.library
    known = known_articles(library.articles, scope.now)
    partnership_ = library.partnership_of(visit)
    attachment = book_attachment(
        visit, partnership_, library.articles, scope.now, scope.lang, known=known
    )
    return _export(scope, attachment)


def help_(scope: Scope, args: str) -> Reply:
    return help_reply(COMMANDS, scope.lang, None)


def start(scope: Scope, args: str) -> Reply:
    return help_reply(COMMANDS, scope.lang, scope.library.partnership_of(scope.visit))


COMMANDS: tuple[Command, ...] = (
    Command("start", start),
    Command("help", help_),
    Command("briefing", shows("briefing")),
    Command("itinerary", itinerary, "arg_day"),
    Command("today", today),
    Command("tomorrow", tomorrow),
    Command("next", next_day),
    Command("who", who, "arg_name"),
    Command("people", shows("people")),
    Command("quotes", shows("quotes")),
    Command("background", shows("background")),
    Command("sources", shows("sources")),
    Command("dossier", shows("dossier")),
    Command("visits", visits),
    Command("visit", visit, "arg_visit"),
    Command("partnership", shows("partnership")),
    Command("calendar", calendar),
    Command("book", book),
    Command("lang", lang, "arg_lang"),
    Command("subscribe", subscribe, "arg_subscribe"),
    Command("unsubscribe", unsubscribe),
    Command("subscriptions", subscriptions),
)
BY_NAME: Final = {c.name: c for c in COMMANDS}


def answer(scope: Scope, text: str, *, words: bool = False) -> Outcome:
    """Answer what was typed. Never raises on user input: bad input gets a short hint.

    `words` is text addressed to the bot without a slash (Slack's one slash command, a mention,
    a direct message): its first word selects a command when it names one, nothing at all
    asks for the briefing, and anything else is read as a plain message.
    """
    text = clean(text[:INPUT_LIMIT]).strip()
    if words:
        first, _, rest = text.partition(" ")
        if not text:
            text = f"/{UMBRELLA}"
        elif first.removeprefix("/").casefold() in BY_NAME:
            text = "/" + first.removeprefix("/") + (" " + rest if rest else "")
    if not text.startswith("/"):
        return _outcome(_plain_message(scope, text))
    head, _, args = text[1:].partition(" ")
    name = head.split("@", 1)[0].casefold()
    if name == UMBRELLA and args.strip():
        sub, _, rest = args.strip().partition(" ")
        if sub.removeprefix("/").casefold() in BY_NAME:
            name, args = sub.removeprefix("/").casefold(), rest
    command = BY_NAME.get(name)
    if command is None:
        unknown = Say("unknown_command", command=echo("/" + head))
        return _outcome(notice_reply(unknown, scope.lang))
    return _outcome(command.handler(scope, args.strip()))


def _outcome(result: Reply | Outcome) -> Outcome:
    return result if isinstance(result, Outcome) else Outcome(result)


def _plain_message(scope: Scope, text: str) -> Reply:
    """A private chat may just name a day: `martedì?`, `what's on tuesday`, `화요일 일정`."""
    if text and scope.private and scope.visit.dated:
        local = local_now(scope.visit, scope.now)
        reading = read_day(text, scope.lang, local, scope.visit.days)
        if reading.day is not None:
            return _day(scope, reading.day)
    return notice_reply(Say("not_understood"), scope.lang)
