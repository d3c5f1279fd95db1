"""`briefing-bot`: chat in the console, run the adapters, check the seeds.

This is the composition root: settings, seeds, renderer and adapters are wired here and nowhere
else, and nothing is built at import time.
"""

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from briefings.languages import LANGS, Lang

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

    commands.add_parser("run", help="start every adapter whose credentials are set")
    commands.add_parser("check", help="validate every seed; non-zero exit on any error")

    args = parser.parse_args(argv)
    if args.command == "check":
        return check()
    if args.command == "chat":
        return chat_command(args.lang, args.now, args.format)
    return run()


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
    facts = sum(len(v.programme) + len(v.people) + len(v.quotes) for v in seeds.visits)
    print(
        f"ok: {len(seeds.articles)} article(s), {len(seeds.visits)} visit(s), "
        f"{facts} events, people and quotes checked against their sources"
    )
    return 0


def chat_command(lang: Lang | None, now: datetime | None, dialect: str, banner: bool = True) -> int:
    from bot.console import ConsoleChat
    from bot.settings import Settings
    from briefings.commands import Briefing
    from briefings.loader import SeedsInvalid, load_seeds
    from briefings.rendering import Renderer

    settings = Settings()
    try:
        seeds = load_seeds(settings.seeds_dir)
    except SeedsInvalid as exc:
        print(f"the seeds are invalid; run `briefing-bot check`:\n{exc}", file=sys.stderr)
        return 1
    visit = seeds.visit
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=ZoneInfo(visit.timezone))
    fixed = now

    def clock() -> datetime:
        return fixed if fixed is not None else datetime.now(UTC)

    console = ConsoleChat(
        briefing=Briefing(visit, seeds.articles),
        renderer=Renderer(),
        clock=clock,
        lang=lang or settings.default_lang,
        dialect=dialect,  # type: ignore[arg-type]  # argparse choices guarantee it
    )
    interactive = sys.stdin.isatty()
    if interactive and banner:
        print(BANNER)
    try:
        console.run(sys.stdin, prompt="> " if interactive else None)
    except KeyboardInterrupt:
        print()
    return 0


def run() -> int:
    import asyncio
    import logging

    from bot.runtime import serve
    from bot.settings import Settings

    settings = Settings()
    if not (settings.telegram_configured or settings.slack_configured):
        return chat_command(None, None, "plain")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL at INFO, and Telegram's URLs hold the token: keep it quiet
    # (the redaction in serve() masks the token anyway).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
