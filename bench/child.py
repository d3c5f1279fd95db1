"""The environment of a benchmark's child process: an allowlist, never the developer's own.

Children run in a temporary directory, so a `.env` in the project root (real tokens) is never
read; `PYTHONPATH` lets `python -m bench...` find this package from there.
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child_env(cwd: Path, **settings: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "HOME": str(cwd),
        "PYTHONPATH": str(ROOT),
        "BRIEFINGS_DATABASE_URL": f"sqlite:///{cwd / 'briefings.sqlite3'}",
        # The seeds cache lives with the run: its first start fills it, as a user's first does.
        "BRIEFINGS_CACHE_DIR": str(cwd / "cache"),
        **settings,
    }
