"""Shared fixtures: the shipped seeds, loaded once, and the reference material in ../shared."""

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from briefings.dossier import Visit
from briefings.library import Library
from briefings.loader import Seeds, load_seeds
from briefings.rendering.renderer import Renderer

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"
SEOUL = ZoneInfo("Asia/Seoul")
# During the visit, Tuesday 27 August 2024, 09:00 in Gwangju.
DURING = datetime(2024, 8, 27, 9, 0, tzinfo=SEOUL)
# The visit with stated days (26-28 August 2024) that most tests brief on.
AUGUST = "turin-gwangju-2024"
# Mayor Kang in Turin, April 2024: only the month is known.
APRIL = "kang-turin-2024-04"


def august(seeds: Seeds) -> Visit:
    return next(v for v in seeds.visits if v.id == AUGUST)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/rendering/golden/* from the current output (review the diff!)",
    )


@pytest.fixture(scope="session", autouse=True)
def _seeds_cache_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Settings built in a test keep the seeds cache out of the project's `var/`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BRIEFINGS_CACHE_DIR", str(tmp_path_factory.mktemp("seeds-cache")))
        yield


@pytest.fixture(scope="session")
def seeds() -> Seeds:
    return load_seeds(SEEDS)


@pytest.fixture(scope="session")
def library(seeds: Seeds) -> Library:
    return Library(seeds)


@pytest.fixture(scope="session")
def renderer() -> Renderer:
    return Renderer()


@pytest.fixture(scope="session")
def shared_seeds() -> Path:
    path = SHARED / "seeds"
    if not path.is_dir():
        pytest.skip(f"{path} is absent: the original articles are not beside the project")
    return path
