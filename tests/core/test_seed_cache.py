"""The seeds cache: the validated seeds come back from it only while nothing they were built
from changed, and a cache that cannot be trusted is ignored, never believed."""

import logging
import os
import shutil
from pathlib import Path

import pytest

from briefings import seed_cache
from briefings.loader import Seeds, SeedsInvalid, load_seeds
from briefings.seed_cache import CACHE_FILE, load_seeds_cached, seeds_key

from ..conftest import AUGUST, SEEDS

TITLE = "  en: The Mayor of Turin in Gwangju\n"
NEW_TITLE = "  en: The Mayor of Turin visits Gwangju\n"


@pytest.fixture
def seeds_dir(tmp_path: Path) -> Path:
    copy = tmp_path / "seeds"
    shutil.copytree(SEEDS, copy)
    return copy


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def no_loading(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records each real load; the cache module's `load_seeds` still loads."""
    loads: list[Path] = []

    def counting(path: Path) -> Seeds:
        loads.append(path)
        return load_seeds(path)

    monkeypatch.setattr(seed_cache, "load_seeds", counting)
    return loads


def _title(seeds: Seeds) -> str:
    visit = next(v for v in seeds.visits if v.id == AUGUST)
    return visit.title("en")


def _edit(seeds_dir: Path, old: str, new: str) -> None:
    path = seeds_dir / "visits" / f"{AUGUST}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_second_load_comes_from_the_cache_and_equals_the_first(
    seeds_dir: Path, cache_dir: Path, no_loading: list[Path]
) -> None:
    first = load_seeds_cached(seeds_dir, cache_dir)
    second = load_seeds_cached(seeds_dir, cache_dir)
    assert no_loading == [seeds_dir]
    assert second == first == load_seeds(seeds_dir)
    assert (cache_dir / CACHE_FILE).is_file()


def test_a_changed_seed_is_loaded_again(
    seeds_dir: Path, cache_dir: Path, no_loading: list[Path]
) -> None:
    assert _title(load_seeds_cached(seeds_dir, cache_dir)) == "The Mayor of Turin in Gwangju"
    _edit(seeds_dir, TITLE, NEW_TITLE)
    assert _title(load_seeds_cached(seeds_dir, cache_dir)) == "The Mayor of Turin visits Gwangju"
    assert len(no_loading) == 2
    # And the rewritten cache serves the new version.
    assert _title(load_seeds_cached(seeds_dir, cache_dir)) == "The Mayor of Turin visits Gwangju"
    assert len(no_loading) == 2


def test_every_seed_file_is_in_the_key(seeds_dir: Path) -> None:
    """An article, a partnership, a file added or renamed: each is a new key."""
    keys = {seeds_key(seeds_dir)}
    article = next((seeds_dir / "articles").glob("*.txt"))
    article.write_bytes(article.read_bytes() + b" ")
    keys.add(seeds_key(seeds_dir))
    partnership = next((seeds_dir / "partnerships").glob("*.yaml"))
    partnership.write_bytes(partnership.read_bytes() + b"\n")
    keys.add(seeds_key(seeds_dir))
    (seeds_dir / "visits" / "notes.txt").write_text("new file")
    keys.add(seeds_key(seeds_dir))
    (seeds_dir / "visits" / "notes.txt").rename(seeds_dir / "visits" / "other.txt")
    keys.add(seeds_key(seeds_dir))
    assert len(keys) == 5


def test_a_seed_made_invalid_is_reported_not_served_from_the_cache(
    seeds_dir: Path, cache_dir: Path
) -> None:
    load_seeds_cached(seeds_dir, cache_dir)
    _edit(seeds_dir, "start: 2024-08-26", "start: 2024-08-29")  # after its end
    with pytest.raises(SeedsInvalid):
        load_seeds_cached(seeds_dir, cache_dir)


@pytest.mark.parametrize(
    "content",
    [b"", b"not a pickle at all", b"\x80\x05\x95", b"\x80\x04K\x01."],
    ids=["empty", "garbage", "truncated", "not-a-tuple"],
)
def test_a_corrupt_cache_is_ignored_and_rewritten(
    seeds_dir: Path, cache_dir: Path, no_loading: list[Path], content: bytes
) -> None:
    cache_dir.mkdir()
    (cache_dir / CACHE_FILE).write_bytes(content)
    (cache_dir / CACHE_FILE).chmod(0o600)
    assert load_seeds_cached(seeds_dir, cache_dir) == load_seeds(seeds_dir)
    assert len(no_loading) == 1
    load_seeds_cached(seeds_dir, cache_dir)
    assert len(no_loading) == 1  # rewritten whole: the next start uses it


def test_a_cache_of_the_right_key_but_not_seeds_is_ignored(
    seeds_dir: Path, cache_dir: Path, no_loading: list[Path]
) -> None:
    import pickle

    cache_dir.mkdir()
    path = cache_dir / CACHE_FILE
    path.write_bytes(pickle.dumps((seeds_key(seeds_dir), {"visits": []})))
    path.chmod(0o600)
    assert load_seeds_cached(seeds_dir, cache_dir) == load_seeds(seeds_dir)
    assert len(no_loading) == 1


def test_a_cache_others_can_write_is_not_read(
    seeds_dir: Path,
    cache_dir: Path,
    no_loading: list[Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    load_seeds_cached(seeds_dir, cache_dir)
    (cache_dir / CACHE_FILE).chmod(0o666)
    with caplog.at_level(logging.WARNING, logger="briefings.seed_cache"):
        assert load_seeds_cached(seeds_dir, cache_dir) == load_seeds(seeds_dir)
    assert len(no_loading) == 2
    assert "others can write it" in caplog.text
    assert os.stat(cache_dir / CACHE_FILE).st_mode & 0o777 == 0o600  # rewritten as ours


def test_a_cache_directory_that_cannot_be_written_costs_only_the_cache(
    seeds_dir: Path, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    assert load_seeds_cached(seeds_dir, blocked / "cache") == load_seeds(seeds_dir)


def test_no_cache_directory_means_no_cache(seeds_dir: Path, no_loading: list[Path]) -> None:
    load_seeds_cached(seeds_dir, None)
    load_seeds_cached(seeds_dir, None)
    assert len(no_loading) == 2
