"""Child processes of the tests see nothing of the developer's machine: not their environment,
not a `.env` in the project root. A real token there would send a test to the internet."""

import json
from pathlib import Path

import pytest

from tests.cli import run_python

from ..conftest import ROOT

SHOW = "import json, os; print(json.dumps({'cwd': os.getcwd(), 'env': dict(os.environ)}))"


def _child(monkeypatch: pytest.MonkeyPatch, **settings: str) -> dict[str, object]:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:bogus-token-from-the-developer-shell")
    monkeypatch.setenv("BRIEFINGS_DATABASE_URL", "postgresql+psycopg://developer/production")
    result = run_python("-c", SHOW, env=settings)
    assert result.returncode == 0, result.stderr
    seen: dict[str, object] = json.loads(result.stdout)
    return seen


def test_a_child_inherits_nothing_but_the_allowlist(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _child(monkeypatch, TELEGRAM_API_URL="http://127.0.0.1:1")
    env = seen["env"]
    assert isinstance(env, dict)
    assert set(env) <= {
        "PATH",
        "LANG",
        "HOME",
        "BRIEFINGS_DATABASE_URL",
        "BRIEFINGS_CACHE_DIR",
        "TELEGRAM_API_URL",
        "LC_CTYPE",  # Python's own UTF-8 mode may add it in the child
    }
    assert "TELEGRAM_BOT_TOKEN" not in env
    assert env["TELEGRAM_API_URL"] == "http://127.0.0.1:1"
    assert env["LANG"] == "C.UTF-8"
    # The database is the child's own, in its temporary directory, never the developer's.
    assert (
        env["BRIEFINGS_DATABASE_URL"] == f"sqlite:///{Path(str(seen['cwd'])) / 'briefings.sqlite3'}"
    )
    # So is the seeds cache: the project's `var/` is never written.
    assert env["BRIEFINGS_CACHE_DIR"] == str(Path(str(seen["cwd"])) / "cache")


def test_a_child_runs_in_an_empty_temporary_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    cwd = Path(str(_child(monkeypatch)["cwd"]))
    assert cwd != ROOT
    assert ROOT not in cwd.parents
    assert not cwd.exists(), "the temporary directory outlives its child"


def test_a_dotenv_where_the_child_runs_is_what_it_reads(tmp_path: Path) -> None:
    """The other half of the proof: settings do come from `.env` in the working directory, so
    only a working directory away from the project root keeps a developer's `.env` out."""
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=1:bogus-from-dotenv\n", encoding="utf-8")
    code = "from bot.settings import Settings; print(Settings().telegram_configured)"
    assert run_python("-c", code, cwd=tmp_path).stdout.strip() == "True"
    assert run_python("-c", code).stdout.strip() == "False"
