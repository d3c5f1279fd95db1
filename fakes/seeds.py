"""Generated seeds: many visits of one partnership, for tests and benchmarks of scale.

Each generated visit is a copy of a shipped one moved in time, so every citation still points at
a real passage of a real article and the loader checks them all as it checks the shipped seeds.
"""

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
DATED = "turin-gwangju-2024"
MONTH_ONLY = "kang-turin-2024-04"


def generate_seeds(target: Path, visits: int) -> Path:
    """A seeds directory with the shipped seeds and generated visits, `visits` in all.

    Every fifth generated visit has only a month (as the April 2024 one); the others have days,
    a week apart from each other.
    """
    shutil.copytree(SEEDS, target)
    dated = _read(DATED)
    month_only = _read(MONTH_ONLY)
    for n in range(1, visits - 1):
        if n % 5 == 0:
            visit = dict(month_only, id=f"generated-{n:03}")
            year, month = divmod(2025 * 12 + n // 5, 12)
            visit["month"] = f"{year}-{month + 1:02}"
        else:
            visit = _moved(dated, f"generated-{n:03}", timedelta(weeks=n + 20))
        (target / "visits" / f"generated-{n:03}.yaml").write_text(
            yaml.safe_dump(visit, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    return target


def _read(visit_id: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(
        (SEEDS / "visits" / f"{visit_id}.yaml").read_text(encoding="utf-8")
    )
    return data


def _moved(visit: dict[str, Any], visit_id: str, by: timedelta) -> dict[str, Any]:
    moved = dict(visit, id=visit_id, start=visit["start"] + by, end=visit["end"] + by)
    moved["programme"] = [
        dict(event, date=event["date"] + by if event.get("date") else event.get("date"))
        for event in visit["programme"]
    ]
    return moved
