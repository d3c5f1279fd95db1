"""A serving process builds before its first update what every update reads, and settles its
memory (bot/warmup.py). Each check runs in a fresh interpreter: in the test process, caches an
earlier test filled would make any check pass."""

import textwrap
from pathlib import Path

from tests.cli import run_python

AFTER_WARMING = textwrap.dedent(
    """
    import babel.localedata
    import jinja2
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from bot.warmup import warm
    from briefings.commands import answer
    from briefings.days import read_day
    from briefings.library import Library
    from briefings.loader import load_seeds
    from briefings.rendering.renderer import Renderer
    from bot.settings import PROJECT_ROOT
    from tests.core.talk import scope

    library = Library(load_seeds(PROJECT_ROOT / "seeds"))
    renderer = Renderer()
    warm(renderer, None)

    def built_again(*args, **kwargs):
        raise AssertionError("built after warming")

    babel.localedata.load = built_again
    jinja2.FileSystemLoader.get_source = built_again
    now = datetime(2024, 8, 27, 9, 0, tzinfo=ZoneInfo("Asia/Seoul"))
    days = [date(2024, 8, 26), date(2024, 8, 27), date(2024, 8, 28)]
    for text, lang in (("day 2", "en"), ("27 agosto", "it"), ("화요일", "ko"), ("martedì", "it")):
        read_day(text, lang, now, days)
    for lang in ("en", "it", "ko"):
        for text in ("/briefing", "/itinerary day 2", "/people", "/help", "/sources"):
            reply = answer(scope(library, lang, now), text).reply
            for dialect in ("telegram", "slack", "plain"):
                renderer.render(reply, dialect)
    print("nothing built")
    """
)


def test_after_warming_reading_a_day_and_rendering_replies_build_nothing(tmp_path: Path) -> None:
    """Babel's locale data read and every template compiled before: the first update's reply
    loads neither (both are made to fail if asked)."""
    result = run_python("-c", AFTER_WARMING, cwd=tmp_path, env={"PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "nothing built"


def test_without_warming_the_first_reply_would_build_them(tmp_path: Path) -> None:
    """The check above can fail: without `warm`, the same replies load both."""
    script = AFTER_WARMING.replace("warm(renderer, None)", "")
    result = run_python("-c", script, cwd=tmp_path, env={"PYTHONPATH": str(ROOT)})
    assert result.returncode != 0
    assert "built after warming" in result.stderr


def test_settling_freezes_what_is_built_and_widens_the_young_generation(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import gc
        from bot.warmup import OLDER, YOUNG, settle
        before = gc.get_freeze_count()
        settle()
        assert gc.get_freeze_count() > before + 1000, gc.get_freeze_count()
        assert gc.get_threshold() == (YOUNG, *OLDER), gc.get_threshold()
        print("settled")
        """
    )
    result = run_python("-c", script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "settled"


ROOT = Path(__file__).resolve().parents[2]
