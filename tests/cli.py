"""`briefing-bot` in a child process, as a user runs it, with nothing of the developer's machine.

The child gets a whole environment built here, never `os.environ`: PATH, a UTF-8 locale, a
temporary HOME, a database in its temporary working directory, and what the test sets. Its
working directory is temporary too, so a developer's `.env` in the project root (a real token
would send a test to the internet) is never read, and `var/` there is never written.
"""

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

CLI = (sys.executable, "-m", "bot.cli")


def child_env(cwd: Path, settings: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment of a child that runs in `cwd`; `settings` add to it or override."""
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "HOME": str(cwd),
        "BRIEFINGS_DATABASE_URL": f"sqlite:///{cwd / 'briefings.sqlite3'}",
        "BRIEFINGS_CACHE_DIR": str(cwd / "cache"),
        **(settings or {}),
    }


@contextmanager
def _workdir(cwd: Path | None) -> Iterator[Path]:
    if cwd is not None:
        yield cwd
        return
    with tempfile.TemporaryDirectory(prefix="briefing-bot-") as made:
        yield Path(made)


def run_python(
    *args: str,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """`python *args` in `cwd` (a fresh temporary directory when None), output captured."""
    with _workdir(cwd) as where:
        return subprocess.run(
            [sys.executable, *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=where,
            env=child_env(where, env),
        )


def run_cli(
    *args: str,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """`briefing-bot *args` to completion; see `run_python`."""
    return run_python(*CLI[1:], *args, input=input, env=env, cwd=cwd, timeout=timeout)


async def start_cli(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    stdout: int = asyncio.subprocess.PIPE,
    stderr: int = asyncio.subprocess.PIPE,
) -> asyncio.subprocess.Process:
    """`briefing-bot *args` left running (a server): the test talks to it and stops it."""
    return await asyncio.create_subprocess_exec(
        *CLI,
        *args,
        cwd=cwd,
        env=child_env(cwd, env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
    )


async def read_until(stream: asyncio.StreamReader, marker: str, timeout: float = 60) -> str:
    """What a running `briefing-bot` printed until `marker` (or its end): a deadline, not a
    timing."""
    seen = ""
    async with asyncio.timeout(timeout):
        while marker not in seen:
            line = await stream.readline()
            if not line:
                break
            seen += line.decode()
    return seen


def free_port() -> int:
    """A port nothing listens on now, for a server a child process will open."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
