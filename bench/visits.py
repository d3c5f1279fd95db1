"""Which visit the benchmarks brief on: the one with stated days, whose clock they set."""

from briefings.commands import Briefing
from briefings.dossier import Visit
from briefings.loader import Seeds

AUGUST = "turin-gwangju-2024"


def august(seeds: Seeds) -> Visit:
    return next(v for v in seeds.visits if v.id == AUGUST)


def august_briefing(seeds: Seeds) -> Briefing:
    visit = august(seeds)
    return Briefing(visit, seeds.articles, seeds.partnership_of(visit))
