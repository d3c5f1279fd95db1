"""One SQLAlchemy engine per process, made from the configured URL; the SQLite file's one-process
lock; and the health probe `/healthz` reports."""

import contextlib
import fcntl
import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError


def make_engine(url: str) -> Engine:
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    sqlite = make_url(url).get_backend_name() == "sqlite"
    # A server may drop a pooled connection (a restart, a terminated backend): each checkout
    # pings it first. A SQLite file has no connection to lose, and the ping was a second
    # statement on every update's one read.
    engine = create_engine(url, pool_pre_ping=not sqlite)
    if sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for an in-memory one or another database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _sqlite_pragmas(connection: object, _record: object) -> None:
    # WAL lets readers and the writer work side by side; busy_timeout waits for a lock rather
    # than failing at once when two processes share the file.
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    # Deleting a subscription takes its ledger rows with it.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class DatabaseInUse(Exception):
    """Another process serves this SQLite file."""

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(f"{path} is in use by {holder}")
        self.path, self.holder = path, holder


class ProcessLock:
    """An exclusive `flock` on `<database>.lock`, held for the life of `briefing-bot run`.

    SQLite has no notion of a live owner, so two processes on one file would both claim the
    ledger's rows and hand back each other's (the second one took back and resent a live
    process's sends). PostgreSQL decides ownership itself; SQLite serves one process, and this
    lock says so. The kernel drops a `flock` when its process ends however it ends (SIGKILL
    included), so a crash never blocks the restart; the pid in the file is only for the
    message. A lock file beside the database rather than SQLite's own exclusive locking mode,
    which would also shut out `briefing-bot schedule` and `deliveries` while the bot runs.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
            os.close(fd)
            database = self.path.with_name(self.path.name.removesuffix(".lock"))
            holder = f"pid {holder}" if holder else "another process"
            raise DatabaseInUse(database, holder) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Unlock; the file stays (removing it would race a process opening it right now)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)  # closing the descriptor drops the flock


def single_process_lock(url: str) -> ProcessLock | None:
    """Take the one-process lock of a SQLite database file (None for any other database).

    Raises `DatabaseInUse` when another live process holds it.
    """
    path = sqlite_path(url)
    if path is None:
        return None
    lock = ProcessLock(path.with_name(path.name + ".lock"))
    lock.acquire()
    return lock


def reachable(engine: Engine) -> bool:
    """Whether the database answers a query on the migrated schema now (on a server, a pooled
    connection is checked by the pool's pre-ping, so one that went away and came back reads as
    back)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT version_num FROM alembic_version"))
    except DBAPIError:
        # Down, refusing, or without its schema: unusable either way.
        return False
    return True
