"""A serving process made ready before its first update, and its memory settled once started.

`warm`: the first update would otherwise build what every update reads: the day reader's
spellings from Babel's month and weekday names in every language, each language's locale data
for writing dates, the templates compiled, the seen store's statements. A tenth of a second or
more, during which every other chat's update waits behind it.

`settle`: once everything is built, what is in memory (the seeds, the libraries, the
caches just built, some 160,000 objects) lives as long as the process. The cyclic collector is
told so (`gc.freeze`); before, each of its full collections went over all of them again, about
0.1 s at a time under a flood of updates. And its youngest generation is collected after
YOUNG objects rather than Python's 700: an update makes and drops a few hundred, nearly all
freed by their reference counts, and a collection every two or three updates found little. In
one process answering 3,000 updates (bench/updates.py), the collector's time went from about
0.4 s to 0.05 s.
"""

import gc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from briefings.rendering.renderer import Renderer
    from storage.seen import SqlSeenRequests

# Objects allocated (less those freed) between two collections of the youngest generation;
# the older two as Python has them, in collections of the younger.
YOUNG = 10_000
OLDER = (10, 10)


def warm(renderer: "Renderer", seen: "SqlSeenRequests | None") -> None:
    from briefings.dates import warm as warm_dates
    from briefings.days import warm as warm_day_reader

    warm_day_reader()
    warm_dates()
    renderer.warm()
    if seen is not None:
        seen.warm()


def settle() -> None:
    """For a serving process's own entry point only (never a test's): the settings are the
    whole interpreter's."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, *OLDER)
