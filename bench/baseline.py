"""The product as it was when issue 12 measured it, run beside today's in the same benchmark.

Issue 12's goal 3 is a multiple of *that day's* serial rate ("webhook updates are handled one at
a time at about 160 a second"), and a ratio is only worth printing when both sides ran on the
same machine in the same minute. So the code of that commit is taken from this repository's own
history (`git archive`, nothing fetched) into a temporary directory and started as it was
deployed then: `python -m bot.cli run`, webhook mode, its own SQLite file, its own seeds, with
that day's settings for "no pacing" (`TELEGRAM_SEND_RATE`). It runs on today's virtualenv: the
libraries it imports are the same distributions (pyproject.toml kept the same ranges).
"""

import io
import os
import selectors
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.settings import PROJECT_ROOT

# main when issue 12 was filed (its figures were measured on it); before the per-chat lanes.
COMMIT = "4739c5530a7f10b6bdbcba9b129cc7921a98e8a0"


@contextmanager
def tree(commit: str = COMMIT) -> Iterator[Path | None]:
    """The commit's files in a temporary directory; None when the history does not hold it
    (a shallow clone), which the caller reports rather than guesses around."""
    archive = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "archive", "--format=tar", commit],
        capture_output=True,
        check=False,
        env={"PATH": os.environ.get("PATH", os.defpath), "HOME": str(PROJECT_ROOT)},
    )
    if archive.returncode != 0:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="briefings-baseline-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            # Our own history, yet extracted as untrusted data where Python can (3.11.4+).
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tmp, filter="data")
            else:
                tar.extractall(tmp)  # noqa: S202 - this repository's own commit
        yield Path(tmp)


@contextmanager
def running(code: Path, settings: dict[str, str], ready: str) -> Iterator[subprocess.Popen[str]]:
    """`python -m bot.cli run` of the code in `code`, in a temporary directory with only the
    settings given, until it prints a line containing `ready`; stopped with SIGTERM after."""
    with tempfile.TemporaryDirectory(prefix="briefings-baseline-run-") as work:
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "LANG": "C.UTF-8",
            "HOME": work,
            # The working directory holds no `bot` package: this path is the one imported.
            "PYTHONPATH": str(code),
            "BRIEFINGS_DATABASE_URL": f"sqlite:///{Path(work) / 'briefings.sqlite3'}",
            **settings,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            _wait_for(process, ready, timeout=60.0)
            # Its log goes on: read and dropped, or a full pipe would stall the process.
            threading.Thread(target=_drain, args=(process,), daemon=True).start()
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _drain(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    for _ in process.stdout:
        pass


def _wait_for(process: subprocess.Popen[str], needle: str, timeout: float) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(max(0.0, deadline - time.monotonic())):
                break
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line)
            if needle in line:
                return
    raise RuntimeError(f"the baseline did not start: {''.join(seen[-5:])!r}")
