"""What each scheduled digest of a visit says (when it falls due is `schedule.py`)."""

from briefings.articles import Article
from briefings.dossier import Visit
from briefings.labels import label
from briefings.languages import Lang
from briefings.partnership import Partnership
from briefings.replies import Reply
from briefings.schedule import Digest, plan
from briefings.views import briefing_reply, day_reply, format_day


def digests(visit: Visit) -> list[Digest]:
    return plan(visit.id, visit.days)


def digest_reply(
    digest: Digest,
    visit: Visit,
    partnership: Partnership,
    articles: dict[str, Article],
    lang: Lang,
) -> Reply:
    # Only a visit with stated days has digests, so its first day is a real one.
    if digest.kind == "eve":
        notice = label("digest_eve", lang, day=format_day(visit.first_day, lang))
        return day_reply(visit, articles, visit.first_day, lang, notice=notice)
    if digest.kind == "morning":
        notice = label("digest_morning", lang)
        return day_reply(visit, articles, digest.day, lang, notice=notice)
    notice = label("digest_recap", lang)
    return briefing_reply(visit, partnership, articles, lang, notice=notice)
