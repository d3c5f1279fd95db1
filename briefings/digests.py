"""What each scheduled digest of a visit says (when it falls due is `schedule.py`)."""

from briefings.articles import Article
from briefings.dossier import Visit
from briefings.labels import label
from briefings.languages import Lang
from briefings.replies import Reply
from briefings.schedule import Digest, plan
from briefings.views import briefing_reply, day_reply, format_day


def digests(visit: Visit) -> list[Digest]:
    return plan(visit.id, visit.days)


def digest_reply(digest: Digest, visit: Visit, articles: dict[str, Article], lang: Lang) -> Reply:
    if digest.kind == "eve":
        notice = label("digest_eve", lang, day=format_day(visit.start, lang))
        return day_reply(visit, articles, visit.start, lang, notice=notice)
    if digest.kind == "morning":
        notice = label("digest_morning", lang)
        return day_reply(visit, articles, digest.day, lang, notice=notice)
    notice = label("digest_recap", lang)
    return briefing_reply(visit, articles, lang, notice=notice)
