"""Planning 100,000 subscriptions: `Ledger.plan_all` writing every digest row still to come.

This is what `briefing-bot run` does at start-up, before the first tick: read every live
subscription and add its missing ledger rows (one per digest of every dated visit of its
partnership). The subscriptions are made first, untimed, with a spread of local times and time
zones as real chats choose them; then a fresh process (so that its peak RSS is planning's, and
imports are paid as the bot pays them) plans at a clock before the August 2024 visit, so every
digest of it is still to come. It plans a second time to show the repeat is idempotent (no new
row) and what it costs.

Printed, for PostgreSQL (a database of our own at 127.0.0.1:5432, dropped afterwards) and for
SQLite (a file in a temporary directory): seconds, rows written a second, the process's peak
RSS and how much planning added to it (bytes per subscription), and the ledger's size on disk
per subscription. Goal (issue 12, goal 4): on PostgreSQL at most 10 s and at most 300 MB.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, insert, select, text

from bench.child import ROOT, child_env
from bench.results import GoalResult
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.schema import Chat, Delivery, Subscription

SUBSCRIPTIONS = int(os.environ.get("BENCH_PLANNING_SUBSCRIPTIONS", "100000"))
PG_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PARTNERSHIP = "turin-gwangju"
# Five days before the August 2024 visit: its eve, mornings and recap are all to come.
PLAN_AT = datetime(2024, 8, 20, tzinfo=UTC)
ZONES = ("Asia/Seoul", "Europe/Rome", "Europe/London", "America/New_York", "UTC")
TIMES = ("06:00", "07:00", "07:30", "08:00", "08:15", "09:00", "12:00", "18:30")
GOAL_S = 10.0
GOAL_MB = 300.0
MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Planned:
    """What the planning child reports (`--plan`)."""

    seconds: float
    again_seconds: float
    rss_before: int
    peak_rss: int


@dataclass(frozen=True, slots=True)
class Figures:
    name: str
    planned: Planned
    rows: int
    ledger_bytes: int

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.planned.seconds

    @property
    def peak_mb(self) -> float:
        return self.planned.peak_rss / MB

    @property
    def added_bytes_per_sub(self) -> float:
        return (self.planned.peak_rss - self.planned.rss_before) / SUBSCRIPTIONS


def populate(engine: Engine, count: int) -> None:
    """`count` chats, each subscribed to the partnership at one of a few times and zones."""
    batch = 20_000
    with engine.begin() as connection:
        for start in range(0, count, batch):
            numbers = range(start, min(start + batch, count))
            ids = connection.scalars(
                insert(Chat).returning(Chat.id, sort_by_parameter_order=True),
                [{"platform": "telegram", "chat_key": str(n), "lang": "en"} for n in numbers],
            ).all()
            connection.execute(
                insert(Subscription),
                [
                    {
                        "chat_id": chat_id,
                        "partnership_id": PARTNERSHIP,
                        "local_time": TIMES[n % len(TIMES)],
                        "timezone": ZONES[n % len(ZONES)],
                    }
                    for n, chat_id in zip(numbers, ids, strict=True)
                ],
            )


def plan_in_child(url: str, cwd: Path) -> Planned:
    done = subprocess.run(
        [sys.executable, "-m", "bench.planning", "--plan", url],
        capture_output=True,
        check=False,
        cwd=cwd,
        env=child_env(cwd, BRIEFINGS_DATABASE_URL=url),
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"planning child exited {done.returncode}:\n{done.stderr.decode()}")
    return Planned(**json.loads(done.stdout.decode().strip().splitlines()[-1]))


def _rss(field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process, in bytes (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def plan_here(url: str) -> None:
    """The child: plan as the bot does at start-up, twice, and report as one JSON line."""
    from briefings.library import Library
    from briefings.loader import load_seeds
    from storage.ledger import Ledger

    plans = Library(load_seeds(ROOT / "seeds")).plans
    engine = make_engine(url)
    with engine.connect() as connection:  # the pool's first connection, as at start-up
        connection.execute(text("select 1"))
    ledger = Ledger(engine, "bench-planning")
    rss_before = _rss("VmRSS")
    start = time.perf_counter()
    ledger.plan_all(plans, PLAN_AT)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    ledger.plan_all(plans, PLAN_AT)
    again = time.perf_counter() - start
    engine.dispose()
    print(json.dumps(asdict(Planned(seconds, again, rss_before, _rss("VmHWM")))))


def _count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(Delivery)) or 0


def measure(name: str, url: str, cwd: Path, size: "SizeOf") -> Figures:
    engine = make_engine(url)
    try:
        upgrade(engine)
        populate(engine, SUBSCRIPTIONS)
        empty = size(engine)
        planned = plan_in_child(url, cwd)
        rows = _count(engine)
        grown = size(engine) - empty
    finally:
        engine.dispose()
    # Counted after both runs of the child: the second adds none, so these are the first's.
    return Figures(name, planned, rows, grown)


class SizeOf:
    def __call__(self, engine: Engine) -> int:
        raise NotImplementedError


class SqliteSize(SizeOf):
    def __init__(self, path: Path) -> None:
        self._path = path

    def __call__(self, engine: Engine) -> int:
        with engine.connect() as connection:
            connection.execute(text("pragma wal_checkpoint(truncate)"))
        return self._path.stat().st_size


def on_postgres(cwd: Path) -> Figures | str:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"bench_planning_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'create database "{name}"'))
    except Exception as exc:
        admin.dispose()
        return f"no PostgreSQL at {PG_ADMIN_URL}: {type(exc).__name__}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        return measure("PostgreSQL", url, cwd, _AutocommitPostgresSize(url))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


class _AutocommitPostgresSize(SizeOf):
    """VACUUM cannot run in a transaction: an autocommit engine of its own."""

    def __init__(self, url: str) -> None:
        self._url = url

    def __call__(self, engine: Engine) -> int:
        own = create_engine(self._url, isolation_level="AUTOCOMMIT")
        try:
            with own.connect() as connection:
                connection.execute(text("vacuum analyze deliveries"))
                size = connection.scalar(text("select pg_total_relation_size('deliveries')"))
                return int(size or 0)
        finally:
            own.dispose()


def main() -> GoalResult:
    results: list[Figures] = []
    missing = ""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        cwd = Path(tmp)
        on_pg = on_postgres(cwd)
        if isinstance(on_pg, str):
            missing = on_pg
        else:
            results.append(on_pg)
        path = cwd / "planning.sqlite3"
        results.append(measure("SQLite", f"sqlite:///{path}", cwd, SqliteSize(path)))

    print(
        f"== planning {SUBSCRIPTIONS:,} subscriptions: Ledger.plan_all at {PLAN_AT:%Y-%m-%d}, "
        "in a fresh process =="
    )
    print(
        f"{'':<11} {'rows':>9} {'s':>7} {'rows/s':>9} {'again s':>8} {'peak MB':>8} "
        f"{'B/sub RAM':>9} {'B/sub disk':>10}"
    )
    for f in results:
        print(
            f"{f.name:<11} {f.rows:>9,} {f.planned.seconds:7.2f} {f.rows_per_s:9,.0f} "
            f"{f.planned.again_seconds:8.2f} {f.peak_mb:8.1f} {f.added_bytes_per_sub:9,.0f} "
            f"{f.ledger_bytes / SUBSCRIPTIONS:10,.0f}"
        )
    print("again = planning a second time (adds no row); peak MB = the process's peak RSS,")
    print("imports and seeds included; B/sub RAM = what planning added to RSS per subscription;")
    print("B/sub disk = the ledger table and its indexes (SQLite: the file's growth)")
    goal = (
        f"planning {SUBSCRIPTIONS:,} subscriptions on PostgreSQL (≤{GOAL_S:g} s, ≤{GOAL_MB:g} MB)"
    )
    if missing:
        print(f"goal on PostgreSQL: not measured ({missing})")
        return GoalResult(goal, "not measured", False, missing)
    pg = results[0]
    met = pg.planned.seconds <= GOAL_S and pg.peak_mb <= GOAL_MB
    figure = f"{pg.planned.seconds:.1f} s, {pg.peak_mb:.0f} MB, {pg.rows_per_s:,.0f} rows/s"
    print(f"goal on PostgreSQL: {figure} -> {'met' if met else 'NOT met'}")
    return GoalResult(goal, figure, met)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--plan"]:
        plan_here(sys.argv[2])
    else:
        main()
