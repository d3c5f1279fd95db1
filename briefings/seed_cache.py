"""The validated seeds, kept between runs: a console chat starts without parsing YAML or checking
a single citation again, as long as nothing it was built from changed.

Parsing every dossier and checking each quote against its article is most of what a fresh
`briefing-bot chat` does before its first reply. Its result depends only on the seed files and
on the code that reads them, so the cache is keyed by a hash of both: every file under the seeds
directory (relative path and bytes, so an added, removed or renamed file counts too), the source
of the modules that define and check the models, and the interpreter and pydantic versions that
pickle them. Any edit to a seed, or an upgrade of the package, is a new key, and the seeds are
validated again and the cache rewritten.

A cache that cannot be read (truncated, garbage, written by another version, a directory where a
file should be) is ignored, never trusted: the seeds are loaded as if there were none. Invalid
seeds are never cached; `load_seeds` raises as before. The file is written to a temporary name
and renamed, so a reader sees a whole cache or none, even with two processes starting at once.
Only the bot's own user can write it (it is a pickle: whoever can write it can run code as the
bot, so it lives in the bot's own `var/`, beside the database, never in a shared place).
"""

import hashlib
import logging
import os
import pickle
import sys
import tempfile
from pathlib import Path

import pydantic

import briefings
from briefings import labels
from briefings.dossier import Text
from briefings.loader import Seeds, load_seeds

log = logging.getLogger(__name__)
FORMAT = b"briefings seeds cache 1"
CACHE_FILE = "seeds.pickle"
# The modules whose code decides what a loaded seed is: a change to any is a new key.
_MODEL_MODULES = ("loader.py", "dossier.py", "articles.py", "partnership.py", "seed_cache.py")
# The bot's own words are validated data too, read at every start: kept beside the seeds.
_LABELS = ("labels.py", "labels.yaml")


def seeds_key(seeds_dir: Path) -> bytes:
    """What the validated seeds depend on, hashed: every seed file, and the code that reads them."""
    digest = hashlib.sha256(FORMAT)
    digest.update(sys.version.encode())
    digest.update(pydantic.VERSION.encode())
    package = Path(briefings.__file__).parent
    for name in _MODEL_MODULES + _LABELS:
        digest.update(name.encode() + b"\0" + (package / name).read_bytes())
    for path in sorted(p for p in seeds_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(seeds_dir).as_posix().encode()
        content = path.read_bytes()
        digest.update(b"%d:%s%d:" % (len(relative), relative, len(content)))
        digest.update(content)
    return digest.digest()


def load_seeds_cached(seeds_dir: Path, cache_dir: Path | None) -> Seeds:
    """`load_seeds(seeds_dir)`, from `cache_dir` when the cache there is whole and current.

    None disables the cache. A cache directory that cannot be written costs only the cache.
    """
    if cache_dir is None:
        return load_seeds(seeds_dir)
    key = seeds_key(seeds_dir)
    path = cache_dir / CACHE_FILE
    cached = _read(path, key)
    if cached is not None:
        seeds, catalogue = cached
        labels.adopt(catalogue)
        return seeds
    seeds = load_seeds(seeds_dir)  # raises SeedsInvalid: nothing is cached then
    _write(path, key, (seeds, labels.catalogue()))
    return seeds


_Cached = tuple[Seeds, dict[str, Text]]


def _read(path: Path, key: bytes) -> _Cached | None:
    try:
        with path.open("rb") as file:
            if not _ours_alone(os.fstat(file.fileno())):
                log.warning("ignoring the seeds cache %s: others can write it", path)
                return None
            # A pickle runs code when loaded: read only one that no one but us could write.
            stored_key, seeds, catalogue = pickle.load(file)  # noqa: S301 - ours, checked above
    except FileNotFoundError:
        return None
    except Exception as exc:  # any unreadable cache is ignored, whatever broke it
        log.info("ignoring the seeds cache %s: %s", path, type(exc).__name__)
        return None
    if stored_key != key:
        return None  # stale: a seed or the code changed since it was written
    if not isinstance(seeds, Seeds) or not isinstance(catalogue, dict):
        log.info("ignoring the seeds cache %s: not seeds", path)
        return None
    return seeds, catalogue


def _ours_alone(stat: os.stat_result) -> bool:
    """Owned by us and writable by nobody else (mkstemp makes it so)."""
    return stat.st_uid == os.getuid() and not stat.st_mode & 0o022


def _write(path: Path, key: bytes, cached: _Cached) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".seeds-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                pickle.dump((key, *cached), file, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.info("could not write the seeds cache %s: %s", path, exc)
