"""What each benchmark's `main()` hands back to `python -m bench`: one row of the summary table.

A figure is text as the benchmark prints it (a ratio, a rate, seconds), and `met` is decided by
the benchmark against its own goal, so the table never re-derives or loosens a bound.
"""

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class GoalResult:
    goal: str
    figure: str
    met: bool
    note: str = ""


def summary_table(results: Iterable[GoalResult]) -> str:
    """The table `make bench` ends with: each goal, its figure, met or not, and why not."""
    rows = [("goal", "figure", "met", "note")]
    rows += [(r.goal, r.figure, "met" if r.met else "NOT met", r.note) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[i].ljust(widths[i]) for i in range(3)]
        lines.append("  ".join([*cells, row[3]]).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in [*widths, 4]))
    return "\n".join(lines)
