"""`briefing-bot`: chat in the console, run the adapters, check the seeds.

This is the composition root: settings, seeds, renderer and adapters are wired here and nowhere
else, and nothing is built at import time.
"""

import argparse
import sys
from collections.abc import Coroutine, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from briefings.languages import LANGS, Lang

if TYPE_CHECKING:
    from storage.ledger import Ledger

BANNER = (
    "Partnership Briefings, console chat on the embedded defaults. Type /help; Ctrl-D quits. "
    "To connect Telegram or Slack, set TELEGRAM_BOT_TOKEN or SLACK_BOT_TOKEN (see .env.example)."
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="briefing-bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    chat = commands.add_parser("chat", help="chat with the bot on standard input")
    chat.add_argument("--lang", choices=LANGS, default=None, help="language to answer in")
    chat.add_argument(
        "--now",
        type=_parse_now,
        default=None,
        help="the clock, ISO-8601 (naive means the visit's time zone); default: the real clock",
    )
    chat.add_argument("--format", choices=("plain", "telegram", "slack"), default="plain")

    run_parser = commands.add_parser("run", help="start every adapter whose credentials are set")
    run_parser.add_argument(
        "--clock-start",
        type=_parse_now,
        default=None,
        help="simulate the clock from this ISO-8601 time (e.g. 2024-08-25T07:00+09:00)",
    )
    run_parser.add_argument(
        "--clock-speed",
        type=float,
        default=1.0,
        help="simulated seconds per real second, with --clock-start (e.g. 600)",
    )
    commands.add_parser("check", help="validate every seed; non-zero exit on any error")
    schedule = commands.add_parser("schedule", help="list the next digests per subscription")
    schedule.add_argument("--now", type=_parse_now, default=None, help="the clock, ISO-8601")
    schedule.add_argument("--limit", type=int, default=50)
    deliveries = commands.add_parser("deliveries", help="list recent deliveries and outcomes")
    deliveries.add_argument("--limit", type=int, default=50)
    digest = commands.add_parser("digest", help="print a digest exactly as a subscriber gets it")
    digest.add_argument("--kind", choices=("eve", "morning", "recap"), required=True)
    digest.add_argument("--day", type=_parse_day, required=True, help="the day it is sent on")
    digest.add_argument("--visit", default=None, help="a visit id (default: the one that day)")
    digest.add_argument("--lang", choices=LANGS, default=None)
    digest.add_argument("--format", choices=("plain", "telegram", "slack"), default="plain")

    export = commands.add_parser("export", help="write the calendar (ics) or briefing book (html)")
    export.add_argument("kind", choices=("ics", "html"))
    export.add_argument("--visit", default=None, help="a visit id (default: the clock's visit)")
    export.add_argument("--lang", choices=LANGS, default=None)
    export.add_argument("-o", "--output", default=None, help="file to write (default: stdout)")
    export.add_argument("--now", type=_parse_now, default=None, help="the clock, ISO-8601")

    args = parser.parse_args(argv)
    if args.command == "check":
        return check()
    if args.command == "chat":
        return chat_command(args.lang, args.now, args.format)
    if args.command == "schedule":
        return schedule_command(args.now, args.limit)
    if args.command == "deliveries":
        return deliveries_command(args.limit)
    if args.command == "digest":
        return digest_command(args.kind, args.day, args.visit, args.lang, args.format)
    if args.command == "export":
        return export_command(args.kind, args.visit, args.lang, args.output, args.now)
    if args.clock_start is not None and args.clock_start.tzinfo is None:
        parser.error("--clock-start needs a time zone offset, e.g. 2024-08-25T07:00+09:00")
    if args.clock_speed <= 0:
        parser.error("--clock-speed must be positive")
    return run(args.clock_start, args.clock_speed)


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a day (YYYY-MM-DD): {value!r}") from exc


def _parse_now(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 date and time: {value!r}") from exc


def check() -> int:
    from bot.settings import Settings
    from briefings.loader import SeedsInvalid, load_seeds

    settings = Settings()
    try:
        seeds = load_seeds(settings.seeds_dir)
    except SeedsInvalid as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print(f"{len(exc.errors)} error(s) in {settings.seeds_dir}", file=sys.stderr)
        return 1
    from briefings.bounds import overflows
    from briefings.library import Library

    too_long = overflows(Library(seeds))
    if too_long:
        for overflow in too_long:
            print(overflow, file=sys.stderr)
        print(
            f"{len(too_long)} summary(ies) would not fit one phone screen "
            "(shorten the dossier's key items, points or unknown line)",
            file=sys.stderr,
        )
        return 1
    facts = sum(len(v.programme) + len(v.people) + len(v.quotes) for v in seeds.visits)
    facts += sum(len(p.timeline) + len(p.follow_ups) for p in seeds.partnerships.values())
    print(
        f"ok: {len(seeds.articles)} article(s), {len(seeds.partnerships)} partnership(s), "
        f"{len(seeds.visits)} visit(s), {facts} events, people, quotes, timeline entries and "
        "follow-ups checked against their sources"
    )
    return 0


def chat_command(lang: Lang | None, now: datetime | None, dialect: str, banner: bool = True) -> int:
    import asyncio

    from bot.console import ConsoleChat
    from bot.session import SessionChatStates
    from bot.settings import Settings
    from briefings.conversation import Conversation
    from briefings.library import Library
    from briefings.loader import SeedsInvalid
    from briefings.rendering.renderer import Renderer
    from briefings.seed_cache import load_seeds_cached

    settings = Settings()
    try:
        seeds = load_seeds_cached(settings.seeds_dir, settings.cache_dir)
    except SeedsInvalid as exc:
        print(f"the seeds are invalid; run `briefing-bot check`:\n{exc}", file=sys.stderr)
        return 1
    library = Library(seeds)
    if now is not None and now.tzinfo is None:
        # A naive time is read in the time zone of the visit the clock falls in (or nearest).
        probe = now.replace(tzinfo=UTC)
        now = now.replace(tzinfo=ZoneInfo(library.current(probe).timezone))
    fixed = now

    def clock() -> datetime:
        return fixed if fixed is not None else datetime.now(UTC)

    conversation = Conversation(
        library,
        SessionChatStates(),
        clock,
        default_lang=lang or settings.default_lang,
        persistent=False,
    )
    console = ConsoleChat(
        conversation,
        Renderer(),
        dialect=dialect,  # type: ignore[arg-type]  # argparse choices guarantee it
    )
    interactive = sys.stdin.isatty()
    if interactive and banner:
        print(BANNER)
    try:
        asyncio.run(console.run(sys.stdin, prompt="> " if interactive else None))
    except KeyboardInterrupt:
        print()
    return 0


def digest_command(
    kind: str, day: date, visit_id: str | None, lang: Lang | None, dialect: str
) -> int:
    """The digest of that kind sent on that day, at the default time in the visit's zone."""
    from bot.console import print_messages
    from bot.settings import Settings
    from briefings.digests import digest_reply
    from briefings.library import Library
    from briefings.loader import SeedsInvalid
    from briefings.rendering.renderer import Renderer
    from briefings.schedule import DEFAULT_TIME, due_at
    from briefings.seed_cache import load_seeds_cached

    settings = Settings()
    try:
        library = Library(load_seeds_cached(settings.seeds_dir, settings.cache_dir))
    except SeedsInvalid as exc:
        print(f"the seeds are invalid; run `briefing-bot check`:\n{exc}", file=sys.stderr)
        return 1
    matches = [
        d
        for plan in library.plans.values()
        for d in plan
        if (d.kind, d.day) == (kind, day) and visit_id in (None, d.visit_id)
    ]
    if len(matches) != 1:
        dated = ", ".join(
            f"{d.kind} {d.day} ({d.visit_id})" for plan in library.plans.values() for d in plan
        )
        why = "no such digest" if not matches else "several visits have one: give --visit"
        print(f"{why}; the digests are: {dated}", file=sys.stderr)
        return 2
    found = matches[0]
    visit = library.visit(found.visit_id)
    assert visit is not None
    reply = digest_reply(
        found,
        visit,
        library.partnership_of(visit),
        library.articles,
        lang or settings.default_lang,
        at=due_at(found, DEFAULT_TIME, visit.timezone),
    )
    print_messages(Renderer().render(reply, dialect), dialect, sys.stdout)  # type: ignore[arg-type]
    return 0


def export_command(
    kind: str, visit_id: str | None, lang: Lang | None, output: str | None, now: datetime | None
) -> int:
    """The file /calendar or /book sends, byte for byte; its caption goes to stderr."""
    from pathlib import Path

    from bot.settings import Settings
    from briefings.book import book_attachment
    from briefings.calendar import calendar_attachment
    from briefings.knowledge import known_articles
    from briefings.library import Library
    from briefings.loader import SeedsInvalid
    from briefings.seed_cache import load_seeds_cached

    settings = Settings()
    try:
        library = Library(load_seeds_cached(settings.seeds_dir, settings.cache_dir))
    except SeedsInvalid as exc:
        print(f"the seeds are invalid; run `briefing-bot check`:\n{exc}", file=sys.stderr)
        return 1
    moment = now if now is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    visit = library.visit(visit_id) if visit_id else library.current(moment)
    if visit is None:
        known = ", ".join(v.id for v in library.visits)
        print(f"no visit {visit_id!r}; the visits are: {known}", file=sys.stderr)
        return 2
    language = lang or settings.default_lang
    partnership = library.partnership_of(visit)
    known_ids = known_articles(library.articles, moment)
    if kind == "ics":
        attachment = calendar_attachment(
            visit, partnership, library.articles, language, known=known_ids
        )
    else:
        attachment = book_attachment(
            visit, partnership, library.articles, moment, language, known=known_ids
        )
    if output is None:
        sys.stdout.buffer.write(attachment.content)
        sys.stdout.flush()
    else:
        Path(output).write_bytes(attachment.content)
    print(attachment.caption, file=sys.stderr)
    return 0


def _on_the_fastest_loop(main: "Coroutine[Any, Any, None]") -> None:
    """The service on uvloop (libuv's event loop, made for servers like this one: every update
    is a few socket reads and writes and a dozen task switches, and they cost less there);
    on asyncio's own loop where uvloop is not installed (it has no build for Windows)."""
    try:
        import uvloop
    except ImportError:
        import asyncio

        asyncio.run(main)
    else:
        uvloop.run(main)


def run(clock_start: datetime | None = None, clock_speed: float = 1.0) -> int:
    import logging

    from bot.runtime import serve
    from bot.settings import Settings
    from bot.warmup import settle

    settings = Settings()
    if not (settings.telegram_configured or settings.slack_configured):
        return chat_command(None, clock_start, "plain")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx (imported by PTB) logs every request URL at INFO, and Telegram's URLs hold the token
    # (serve() masks the secrets in every record anyway). Alembic and APScheduler narrate
    # every plugin and every tick.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    from bot.startup import StartupFailed

    try:
        _on_the_fastest_loop(
            serve(settings, clock_start=clock_start, clock_speed=clock_speed, when_built=settle)
        )
    except StartupFailed as exc:
        # One line an operator can act on; never a traceback, which has carried the token.
        print(f"briefing-bot run: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


def _ledger() -> "Ledger":
    from bot.settings import Settings
    from storage.engine import make_engine
    from storage.ledger import Ledger
    from storage.migrate import upgrade

    settings = Settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return Ledger(engine, "cli")


def schedule_command(now: datetime | None, limit: int) -> int:
    ledger = _ledger()
    moment = now if now is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    rows = ledger.upcoming(moment, limit)
    if not rows:
        print("no digests scheduled")
        return 0
    print(f"{'due (UTC)':<17} {'local time':<37} {'chat':<24} digest")
    for row in rows:
        to = row.recipient
        local = row.due_at.astimezone(ZoneInfo(to.timezone))
        chat = f"{to.chat.platform}:{to.chat.key}"
        print(
            f"{row.due_at:%Y-%m-%d %H:%M} {local:%Y-%m-%d %H:%M} {to.timezone:<20} "
            f"{chat:<24} {row.digest_key} ({to.lang})"
        )
    return 0


def deliveries_command(limit: int) -> int:
    ledger = _ledger()
    rows = ledger.recent(limit)
    counts = ledger.counts()
    print("totals: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"))
    for row in rows:
        chat = row.recipient.chat
        when = row.finished_at or row.due_at
        detail = f" ({row.detail})" if row.detail else ""
        print(
            f"{when:%Y-%m-%d %H:%M} UTC  {row.status:<8} {chat.platform}:{chat.key:<20} "
            f"{row.digest_key} attempts={row.attempts}{detail}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
