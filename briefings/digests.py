"""What each scheduled digest of a visit says (when it falls due is `schedule.py`)."""

from briefings.articles import Article
from briefings.dates import format_day
from briefings.dossier import Visit
from briefings.languages import Lang
from briefings.partnership import Partnership
from briefings.replies import Reply, Say
from briefings.schedule import Digest, plan
from briefings.views import briefing_reply, day_reply


def digests(visit: Visit) -> list[Digest]:
    return plan(visit.id, visit.days)


def digest_reply(
    digest: Digest,
    visit: Visit,
    partnership: Partnership,
    articles: dict[str, Article],
    lang: Lang,
) -> Reply:
    if digest.kind == "eve":
        first = visit.days[0]
        notice = Say("digest_eve", day=format_day(first, lang))
        return day_reply(visit, articles, first, lang, notice=notice)
    if digest.kind == "morning":
        return day_reply(visit, articles, digest.day, lang, notice=Say("digest_morning"))
    return briefing_reply(visit, partnership, articles, lang, notice=Say("digest_recap"))
