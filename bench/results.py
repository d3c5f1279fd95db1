"""What each goal's benchmark hands to `make bench`'s summary table."""

from dataclasses import dataclass


@dataclass(frozen=True)
class GoalResult:
    goal: str
    figure: str
    met: bool
    note: str = ""
