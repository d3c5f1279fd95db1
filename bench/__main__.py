"""Run every benchmark in order: `make bench` is `.venv/bin/python -m bench`.

Each module's `main()` prints its figures and hands back its goals (`bench.results.GoalResult`,
a list of them, or none); the run ends with one table of them all. Modules developed on other
branches (scale-out, CPU per send, updates per second) join when they are present. A benchmark
that fails is a row that says so, so that the others still run and the table still comes.
"""

import importlib
import importlib.util
import sys
import time
import traceback
from collections.abc import Callable

from bench.results import GoalResult, summary_table

# In the order they run. Cheap ones first, so a broken set-up shows early.
MODULES = (
    "render",
    "cold_start",
    "planning",
    "telegram_roundtrip",
    "slack_roundtrip",
    "fanout",
    "interactive",
    "scaleout",
    "send_cpu",
    "updates",
)
# The whole run's own goal (issue 12, goal 6).
BUDGET_S = 600.0


def _results(returned: object) -> list[GoalResult]:
    if returned is None:
        return []
    if isinstance(returned, GoalResult):
        return [returned]
    if isinstance(returned, list | tuple) and all(isinstance(r, GoalResult) for r in returned):
        return list(returned)
    raise TypeError(f"main() returned {type(returned).__name__}, not GoalResult(s)")


def run_all(names: tuple[str, ...] = MODULES) -> list[GoalResult]:
    results: list[GoalResult] = []
    for name in names:
        if importlib.util.find_spec(f"bench.{name}") is None:
            continue  # another branch's benchmark, not merged here
        print(f"\n######## bench.{name}", flush=True)
        started = time.perf_counter()
        try:
            entry: Callable[[], object] = importlib.import_module(f"bench.{name}").main
            results += _results(entry())
        except Exception as exc:  # one broken benchmark must not hide the others
            traceback.print_exc()
            results.append(GoalResult(f"bench.{name}", "failed", False, f"{exc!r}"[:120]))
        print(f"(bench.{name}: {time.perf_counter() - started:.1f} s)", flush=True)
    return results


def main() -> int:
    started = time.perf_counter()
    results = run_all()
    elapsed = time.perf_counter() - started
    results.append(
        GoalResult(
            f"make bench runs everything in under {BUDGET_S / 60:g} minutes (issue 12, goal 6)",
            f"{elapsed:.0f} s",
            elapsed < BUDGET_S,
        )
    )
    print("\n== summary ==")
    print(summary_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
