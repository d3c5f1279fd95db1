"""Scale-out: `briefing-bot run` processes on one PostgreSQL database, fanning one digest out.

A fan-out of SUBSCRIBERS (20,000) Telegram chats against bench/fanout.py's fake Bot API (its
own process; 5% 429 and 1% 500 at random) with its cap set above what one process reaches: once
with one `briefing-bot run`, once with two, each process paced at the cap, both on one
PostgreSQL database at 127.0.0.1:5432 (`BRIEFINGS_BENCH_POSTGRES_URL`), which decides who sends
what (`FOR UPDATE SKIP LOCKED`). The processes are the product as deployed: polling, the
scheduler on a simulated clock started a minute after the digest fell due.

The rate is chats served over the span from the first delivery to the last (start-up left
out); exactly once is read from the fake (0 duplicates, 0 lost). CPU over the same span (from
/proc): the bot processes, the fake, and PostgreSQL (the backends of the bench's database and
the server's own background processes). Then, with Telegram's broadcast limit (30 messages a
second) as the fake's cap, CAPPED subscribers and one process paced at 30 a second: the achieved
fraction of the cap (goal: at least 0.95).

Goal: two processes deliver at least 1.5x what one delivers, each chat exactly once.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, select, text, update

from bench.child import child_env
from bench.fanout import DIGEST_KEY, RANDOM_429, RANDOM_500, FakeReport, fake_process, populate
from bench.results import GoalResult
from bot.settings import PROJECT_ROOT
from briefings.library import Library
from briefings.loader import load_seeds
from fakes.telegram_api import DEFAULT_TOKEN
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.schema import Delivery

SUBSCRIBERS = int(os.environ.get("BENCH_SCALEOUT_SUBSCRIBERS", "20000"))
CAP = float(os.environ.get("BENCH_SCALEOUT_CAP", "3000"))  # above what one process reaches
CAPPED = int(os.environ.get("BENCH_SCALEOUT_CAPPED", "3000"))
TELEGRAM_CAP = 30.0
ADMIN_URL = os.environ.get(
    "BRIEFINGS_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CLOCK_START = "2024-08-26T07:31+09:00"  # a minute after the morning digest fell due in Seoul
GOAL_RATIO = 1.5
GOAL_FRACTION = 0.95
DEADLINE_S = 150.0
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User and system CPU seconds of one process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def postgres_pids(database: str) -> list[int]:
    """The server's background processes and the backends serving `database`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if not title.startswith("postgres:"):
            continue
        background = not any(c in title for c in ("(", "idle", "SELECT", "UPDATE", "INSERT"))
        if database in title or background:
            pids.append(int(entry.name))
    return pids


@dataclass(frozen=True)
class Run:
    processes: int
    subscribers: int
    delivered: int
    duplicates: int
    rate: float
    bots_cpu: float
    fake_cpu: float
    postgres_cpu: float
    answers: str


@contextmanager
def database() -> Iterator[tuple[str, str]]:
    """A new database for the bench (its URL and name), dropped afterwards."""
    name = f"briefings_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name, name
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def reset(engine: Engine) -> None:
    """The digest due again for everyone, as before the first run."""
    with engine.begin() as connection:
        connection.execute(
            update(Delivery)
            .where(Delivery.digest_key == DIGEST_KEY)
            .values(status="pending", owner=None, attempts=0, finished_at=None, detail=None)
            .values(not_before=None)
        )


def sent(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.scalar(
                select(func.count()).where(
                    Delivery.digest_key == DIGEST_KEY, Delivery.status == "sent"
                )
            )
            or 0
        )


def fan_out(engine: Engine, url: str, name: str, processes: int, *, cap: float, total: int) -> Run:
    """`processes` bots against a new fake capped at `cap`, until all `total` are sent."""
    with fake_process(cap) as fake, tempfile.TemporaryDirectory() as tmp:
        bots: list[subprocess.Popen[bytes]] = []
        try:
            for n in range(processes):
                cwd = Path(tmp) / f"bot{n}"
                cwd.mkdir()
                env = child_env(
                    cwd,
                    TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
                    TELEGRAM_API_URL=fake.url,
                    BRIEFINGS_DATABASE_URL=url,
                    BRIEFINGS_HTTP_PORT="0",
                    TELEGRAM_SEND_RATE=f"{cap:g}",
                )
                with (cwd / "bot.log").open("wb") as log:
                    bots.append(
                        subprocess.Popen(
                            [sys.executable, "-m", "bot.cli", "run", "--clock-start", CLOCK_START],
                            cwd=cwd,
                            env=env,
                            stdin=subprocess.DEVNULL,
                            stdout=log,
                            stderr=subprocess.STDOUT,
                        )
                    )
            deadline = time.monotonic() + DEADLINE_S
            while sent(engine) == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            # From the first delivery on: start-up is left out of the CPU as of the rate.
            pg = postgres_pids(name)
            before = (
                [cpu_s(b.pid) for b in bots],
                cpu_s(fake.pid),
                {pid: cpu_s(pid) for pid in pg},
            )
            while sent(engine) < total and time.monotonic() < deadline:
                time.sleep(0.1)
            pg_after = {pid: cpu_s(pid) for pid in set(pg) | set(postgres_pids(name))}
            bots_cpu = sum(cpu_s(b.pid) - c for b, c in zip(bots, before[0], strict=True))
            fake_cpu = cpu_s(fake.pid) - before[1]
            postgres_cpu = sum(c - before[2].get(pid, 0.0) for pid, c in pg_after.items())
            if sent(engine) < total:
                print(f"stopped after {DEADLINE_S:g} s with deliveries left: figures are partial")
        finally:
            for bot in bots:
                if bot.poll() is None:
                    bot.send_signal(signal.SIGTERM)
            for bot in bots:
                try:
                    bot.wait(30)
                except subprocess.TimeoutExpired:
                    bot.kill()
                    bot.wait()
        fake.conn.send("stop")
        report: FakeReport = fake.conn.recv()
    chats = len(report.delivered)
    span = max(report.last_at - report.first_at, 1e-9)
    answers = ", ".join(f"{k} {v:,}" for k, v in sorted(report.answers.items()))
    return Run(
        processes,
        total,
        chats,
        sum(1 for n in report.delivered.values() if n > 1),
        chats / span,
        bots_cpu,
        fake_cpu,
        postgres_cpu,
        answers,
    )


def show(run: Run) -> None:
    per = run.bots_cpu / max(run.delivered, 1) * 1000
    print(
        f"{run.processes} process(es): {run.rate:>7.1f} messages/s; delivered {run.delivered:,} "
        f"of {run.subscribers:,}, {run.duplicates} duplicate(s), "
        f"{run.subscribers - run.delivered} lost"
    )
    print(
        f"   CPU: bots {run.bots_cpu:.1f} s ({per:.2f} ms a message), fake {run.fake_cpu:.1f} s, "
        f"PostgreSQL {run.postgres_cpu:.1f} s; fake's answers: {run.answers}"
    )


def main() -> GoalResult:
    library = Library(load_seeds(PROJECT_ROOT / "seeds"))
    print(
        f"== scale-out: {SUBSCRIBERS:,} subscribers, briefing-bot run x1 then x2 on one "
        f"PostgreSQL; fake capped at {CAP:g}/s with {RANDOM_429:.0%} 429 and {RANDOM_500:.0%} "
        f"500 at random; {os.cpu_count()} cores shared by all =="
    )
    try:
        with database() as (url, name):
            engine = make_engine(url)
            try:
                upgrade(engine)
                populate(engine, library, SUBSCRIBERS)
                one = fan_out(engine, url, name, 1, cap=CAP, total=SUBSCRIBERS)
                show(one)
                reset(engine)
                two = fan_out(engine, url, name, 2, cap=CAP, total=SUBSCRIBERS)
                show(two)
            finally:
                engine.dispose()
        with database() as (url, name):
            engine = make_engine(url)
            try:
                upgrade(engine)
                populate(engine, library, CAPPED)
                capped = fan_out(engine, url, name, 1, cap=TELEGRAM_CAP, total=CAPPED)
            finally:
                engine.dispose()
    except Exception as exc:
        if "connection" not in str(exc).lower():
            raise
        print(f"no PostgreSQL at {ADMIN_URL}: {type(exc).__name__}")
        return GoalResult("1. scale-out on PostgreSQL", "not run", False, "no PostgreSQL")
    ratio = two.rate / one.rate
    exact = all(r.duplicates == 0 and r.delivered == r.subscribers for r in (one, two, capped))
    print(f"ratio 2 / 1 processes: {ratio:.2f} (goal: at least {GOAL_RATIO}, exactly once)")
    fraction = capped.rate / TELEGRAM_CAP
    print(
        f"at Telegram's {TELEGRAM_CAP:g} messages/s, {CAPPED:,} subscribers, one process paced "
        f"at it: {capped.rate:.1f} messages/s, {fraction:.3f} of the cap "
        f"(goal: at least {GOAL_FRACTION}); delivered {capped.delivered:,}, "
        f"{capped.duplicates} duplicate(s); fake's answers: {capped.answers}"
    )
    met = ratio >= GOAL_RATIO and fraction >= GOAL_FRACTION and exact
    reasons = []
    if not exact:
        reasons.append("not exactly once")
    if ratio < GOAL_RATIO:
        reasons.append("2 bots, fake and PostgreSQL share 2 cores")
    if fraction < GOAL_FRACTION:
        reasons.append(f"{fraction:.2f} of the 30/s cap")
    return GoalResult(
        "1. scale-out on PostgreSQL",
        f"{ratio:.2f}x with 2 processes ({two.rate:.0f}/s vs {one.rate:.0f}/s); "
        f"{fraction:.2f} of 30/s",
        met,
        "; ".join(reasons),
    )


if __name__ == "__main__":
    main()
