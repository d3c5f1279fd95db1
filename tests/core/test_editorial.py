"""Text an embassy would sign (issue 9, section 3), and plans kept apart from what was reported
(section 2): one test per finding, on the dossier and the labels, each of which failed on the
text as it was before.

They read the seeds and labels, not rendered replies, so the templates may change freely."""

import re
from collections.abc import Iterator
from datetime import date

import pytest
from pydantic import BaseModel

from briefings.dossier import Citation, Event, Person, Quote, Statement, Text, Visit
from briefings.labels import catalogue, label
from briefings.languages import Lang
from briefings.loader import Seeds

from ..conftest import APRIL, august

IT = "000_aabc35dee4213ec7"
KO = "001_6b033fd5245a1789"
LANGS: tuple[Lang, ...] = ("en", "it", "ko")


def _april(seeds: Seeds) -> Visit:
    return next(v for v in seeds.visits if v.id == APRIL)


def _texts(node: object, path: str = "") -> Iterator[tuple[str, Text]]:
    """Every user-visible text of a seed, with where it is (quote originals and their
    translations are the speakers' words, not ours, and are not `Text`s)."""
    if isinstance(node, Text):
        yield path, node
    elif isinstance(node, BaseModel):
        for field in type(node).model_fields:
            yield from _texts(getattr(node, field), f"{path}.{field}".lstrip("."))
    elif isinstance(node, tuple | list):
        for i, item in enumerate(node):
            yield from _texts(item, f"{path}.{i}")


def _all_texts(seeds: Seeds) -> list[tuple[str, Text]]:
    found = [(f"{v.id}:{p}", t) for v in seeds.visits for p, t in _texts(v)]
    found += [(f"{p_.id}:{p}", t) for p_ in seeds.partnerships.values() for p, t in _texts(p_)]
    return found


def _event(visit: Visit, event_id: str) -> Event:
    return next(e for e in visit.programme if e.id == event_id)


def _quote(visit: Visit, quote_id: str) -> Quote:
    return next(q for q in visit.quotes if q.id == quote_id)


def _cited(cites: tuple[Citation, ...]) -> str:
    return " ".join(c.quote for c in cites)


def _facts(visit: Visit) -> list[Statement]:
    return [*visit.background, *visit.open_questions]


# --- Section 2: planned vs reported ----------------------------------------------------------


def test_the_italian_article_was_written_before_the_visit(seeds: Seeds) -> None:
    italian, korean = seeds.articles[IT], seeds.articles[KO]
    assert italian.published is None
    assert italian.written_before == date(2024, 8, 26)
    assert korean.published is not None
    assert korean.published.isoformat() == "2024-08-27T17:15:48+09:00"


def test_every_reported_outcome_cites_a_dated_article_published_after_the_event(
    seeds: Seeds,
) -> None:
    reported = [(v, e, r) for v in seeds.visits for e in v.programme for r in e.reported]
    assert len(reported) >= 6
    for visit, event, outcome in reported:
        for citation in outcome.cite:
            published = seeds.articles[citation.article].published
            assert published is not None, (visit.id, event.id, citation.article)
            if event.date is not None:
                assert published.date() >= event.date, (visit.id, event.id)


OUTCOME_WORDS = {
    "en": ["agreed", "handed", "discussed", "exchanged", "studied"],
    "it": ["convenuto", "consegnato", "discusso", "esaminato"],
    "ko": ["전달했다", "모으기로", "논의", "나눴다", "전달", "시찰"],
}


def test_no_outcome_is_told_as_a_plan(seeds: Seeds) -> None:
    """`details` are what was known beforehand; outcomes live in `reported` only."""
    for visit in seeds.visits:
        for event in visit.programme:
            if event.details is None:
                continue
            for lang, words in OUTCOME_WORDS.items():
                text = event.details(lang)
                assert not [w for w in words if w in text], (visit.id, event.id, lang, text)
    meeting = _event(august(seeds), "meeting-kang")
    reported = " ".join(r.text("en") for r in meeting.reported)
    assert "agreed" in reported
    assert "handed" in reported
    assert "정책제안서" in _cited(tuple(c for r in meeting.reported for c in r.cite))


def test_the_august_programme_cites_its_plan_and_the_later_article_only_for_outcomes(
    seeds: Seeds,
) -> None:
    """Every dated item is planned in the Italian article; the Korean one, filed after the
    forum, does not source the forum's title (it names another forum)."""
    visit = august(seeds)
    for event in visit.programme:
        if event.date is not None:
            assert IT in {c.article for c in event.cite}, event.id
    assert {c.article for c in _event(visit, "forum").cite} == {IT}


def test_quotes_are_tied_to_the_meeting_where_the_sources_say_so(seeds: Seeds) -> None:
    visit = august(seeds)
    events = {e.id for e in visit.programme}
    for quote in visit.quotes:
        assert quote.event is None or quote.event in events
        cited = {c.article for c in quote.cite}
        if cited == {KO}:
            assert quote.event == "meeting-kang", quote.id
        else:
            # Said to the Italian press before the visit: at no programme item.
            assert quote.event is None, quote.id


def test_key_marks_are_editorial_choices_made_in_the_dossier(seeds: Seeds) -> None:
    visit, april = august(seeds), _april(seeds)
    assert [p.id for p in visit.people if p.key] == ["kang"]
    assert [p.id for p in april.people if p.key] == ["lo-russo"]
    assert 2 <= len([q for q in visit.quotes if q.key]) <= 3
    tuesday = visit.events_on(date(2024, 8, 27))
    assert len(tuesday) == 4
    assert all(e.key for e in tuesday)
    monday = visit.events_on(date(2024, 8, 26))
    assert 1 <= len([e for e in monday if e.key]) < len(monday)
    assert all(e.key for e in april.programme)


@pytest.mark.parametrize("visit_id", [APRIL, "turin-gwangju-2024"])
def test_each_visit_has_a_summary_that_fits_a_phone(seeds: Seeds, visit_id: str) -> None:
    visit = next(v for v in seeds.visits if v.id == visit_id)
    assert visit.summary is not None
    assert 2 <= len(visit.summary.points) <= 3
    for point in visit.summary.points:
        for lang in LANGS:
            assert len(point.text(lang)) <= 60, (lang, point.text(lang))
            assert "\n" not in point.text(lang)
    for lang in LANGS:
        assert len(visit.summary.unknown.text(lang)) <= 90, lang


# --- Section 3, item 1: the cemetery -----------------------------------------------------------


def test_1_the_cemetery_and_its_dead_by_their_established_names(seeds: Seeds) -> None:
    visit = august(seeds)
    place = visit.place("may-18-cemetery")
    assert place.name("ko") == "국립5·18민주묘지"
    assert place.name("en") == "May 18th National Cemetery"
    # The article's own name, with the established one marked as a translation.
    assert place.name("it").startswith("Cimitero Nazionale ‘18 Maggio’")
    assert "국립5·18민주묘지" in place.name("it")
    assert "traduzione" in place.name("it")
    details = _event(visit, "may-18-cemetery").details
    assert details is not None
    assert "5·18민주화운동 희생자" in details("ko")
    assert "국립묘지로 지정" in details("ko")
    for where, text in _all_texts(seeds):
        assert "시위대" not in text("ko"), where
        assert "‘5월 18일’ 국립묘지" not in text("ko"), where
        assert "2002년 조성" not in text("ko"), where
    notes = " ".join(n.text("en") for n in visit.source_notes if n.kind == "spelling")
    assert "Cimitero Nazionale ‘18 Maggio’" in notes
    assert "as a translation" in notes


# --- Item 2: commentary and speculation, attributed ---------------------------------------------

COMMENTARY = ["Chissà se", "grandi difficoltà produttive"]
ATTRIBUTION = {"en": "Italian article", "it": "articolo italiano", "ko": "이탈리아어 기사"}


def test_2_the_italian_articles_commentary_is_attributed_to_it(seeds: Seeds) -> None:
    found = 0
    for visit in seeds.visits:
        for fact in _facts(visit):
            if not any(c in _cited(fact.cite) for c in COMMENTARY):
                continue
            found += 1
            for lang, who in ATTRIBUTION.items():
                # Said first, before the claim it attributes.
                assert who in fact.text(lang)[:45], (visit.id, lang, fact.text(lang))
    assert found == 3


# --- Item 3: Emila Gatto, and Hangul spellings said once ---------------------------------------


def test_3_emila_as_written_with_emilia_as_a_visible_variant(seeds: Seeds) -> None:
    gatto = august(seeds).person("gatto")
    assert [n.text for n in gatto.names] == ["Emila Gatto"]
    assert [v.text for v in gatto.variants] == ["Emilia Gatto"]
    note = gatto.variants[0].note
    for lang in LANGS:
        assert "Emila" in note(lang)
        assert "Emilia" in note(lang)
    assert gatto.role("ko") == "주한 이탈리아 대사"


def test_3_the_missing_hangul_spellings_are_said_once(seeds: Seeds) -> None:
    visit = august(seeds)
    for where, text in _all_texts(seeds):
        for lang in LANGS:
            assert "이름 미상" not in text(lang), where
            assert "기사의 직함을 옮김" not in text(lang), where
    saying = [n for n in visit.source_notes if "한글 표기는 출처에 없음" in n.text("ko")]
    assert len(saying) == 1
    for name in ("Park Seon-cheol", "Shin Su Jeong"):
        assert name in saying[0].text("ko")
    assert "Hangul spelling" in saying[0].text("en")
    assert "not in the sources" in saying[0].text("en")
    # The per-person label no longer reads as "identity unknown".
    assert label("name_hangul_not_stated", "ko") != "한글 이름 미상"


# --- Item 4: titles -----------------------------------------------------------------------------


def test_4_titles_as_the_institutions_use_them(seeds: Seeds) -> None:
    visit = august(seeds)
    assert visit.person("park-seon-cheol").role("ko") == "광주광역시 국제관계대사"
    shin = visit.person("shin-su-jeong")
    assert shin.role("ko").startswith("광주광역시의회 의장")
    assert "Chair" in shin.role("en")
    for where, text in _all_texts(seeds):
        assert "President of the Gwangju" not in text("en"), where
        assert "President of the Gwangju Metropolitan Council" not in text("en"), where
        # One form for the city as an institution: 광주광역시, never 광주시.
        assert "광주시" not in text("ko"), where


def test_4_the_visitor_meets_mayor_kang_he_does_not_receive_him(seeds: Seeds) -> None:
    meeting = _event(august(seeds), "meeting-kang")
    assert "강기정" in meeting.title("ko")
    assert "시장 면담" in meeting.title("ko")
    for visit in seeds.visits:
        for event in visit.programme:
            assert "접견" not in event.title("ko"), event.id


# --- Item 5: "differ" only for a conflict ------------------------------------------------------


def test_5_differ_only_where_the_sources_conflict(seeds: Seeds) -> None:
    conflicts = [n for v in seeds.visits for n in v.source_notes if n.kind == "disagreement"]
    assert len(conflicts) == 1
    cited = _cited(conflicts[0].cite)
    assert "Gwangju Future Mobility Forum" in cited
    assert "제1회 글로벌 소부장포럼" in cited
    # The agreement's names are names of one agreement; why he came is forum and invitation.
    for visit in seeds.visits:
        for note in visit.source_notes:
            if "우호협약" in _cited(note.cite) or "광주시 초청으로" in _cited(note.cite):
                assert note.kind != "disagreement", note.text("en")


# --- Item 6: Italian ----------------------------------------------------------------------------

TU_FORMS = re.compile(
    r"\b(ciao|ti|tu|tuoi|tuo|tua|tue|puoi|scrivi|scegli|cerchi|iscriviti|attivali|"
    r"rispondo|aggiorno)\b",
    re.IGNORECASE,
)


def test_6_italian_names_the_forum_and_the_city_and_keeps_titles_in_lower_case(
    seeds: Seeds,
) -> None:
    visit = august(seeds)
    for where, text in _all_texts(seeds):
        italian = text("it")
        assert "forum cittadino" not in italian, where
        assert "su invito della città" not in italian, where
        assert "Sindaco" not in italian, where
    assert "Forum sulla mobilità del futuro nella città di Gwangju" in visit.purpose.text("it")
    assert "su invito della Città metropolitana di Gwangju" in visit.purpose.text("it")
    assert "sala di rappresentanza" in visit.place("gwangju-city-hall").name("it")
    proposal = _event(visit, "meeting-kang").reported
    assert any("proposta programmatica" in r.text("it") for r in proposal)
    people: list[Person] = [p for v in seeds.visits for p in v.people]
    for person in people:
        assert person.role("it")[0].islower(), person.role("it")


def test_6_italian_labels_in_an_institutional_register() -> None:
    for key, text in catalogue().items():
        assert not TU_FORMS.search(text("it")), (key, text("it"))


# --- Item 7: attributions -----------------------------------------------------------------------


def test_7_ggm_as_a_win_win_job_model_is_mayor_kangs_claim(seeds: Seeds) -> None:
    claims = [
        (where, text)
        for where, text in _all_texts(seeds)
        if "win-win" in text("en") and ".context" not in where
    ]
    assert claims
    for where, text in claims:
        assert "Kang" in text("en"), where
        assert "Kang" in text("it"), where
        assert "강 시장" in text("ko") or "강기정" in text("ko"), where
    assert "노사상생형" in _quote(august(seeds), "kang-future-car-city").original


def test_7_the_korean_sub_heading_is_not_a_quote(seeds: Seeds) -> None:
    for visit in seeds.visits:
        for quote in visit.quotes:
            assert quote.speaker is not None, quote.id
            assert "도시 경쟁력 강화 기회" not in quote.original
    assert label("speaker_not_stated", "en")  # kept for other sources, unused here


def test_7_the_korean_article_is_not_cited_for_the_future_mobility_forum(seeds: Seeds) -> None:
    """Only the Italian article names the "(Gwangju) Future Mobility Forum": no fact naming it
    rests on the Korean article alone, and the forum item cites the Italian article only."""
    visit = august(seeds)
    facts = [*_facts(visit), visit.purpose, *visit.source_notes, *visit.programme]
    for fact in facts:
        articles = {c.article for c in fact.cite}
        texts = [t for _, t in _texts(fact)]
        if any("Future Mobility" in t("en") for t in texts):
            assert IT in articles
    assert {c.article for c in _event(visit, "forum").cite} == {IT}


def test_7_successivamente_is_later_not_immediately(seeds: Seeds) -> None:
    note = _event(august(seeds), "meeting-shin").when_note
    assert note is not None
    assert note("en").startswith("Later")
    assert "Next" not in note("en")
    assert "immediately" not in note("en")
    assert note("it").startswith("Successivamente")
    assert "Subito" not in note("it")


def test_7_lo_russos_words_reported_in_korean_say_so_once_each(seeds: Seeds) -> None:
    reported_in_korean = [
        q for q in august(seeds).quotes if q.speaker == "lo-russo" and q.lang == "ko"
    ]
    assert len(reported_in_korean) == 4
    for quote in reported_in_korean:
        assert quote.context("en").endswith("as reported in Korean by 뉴스스텝")
        assert quote.context("it").endswith("come riportato in coreano da 뉴스스텝")
        assert quote.context("ko").endswith("뉴스스텝 한국어 보도")
        for lang in LANGS:
            assert "translated" not in quote.context(lang)
            assert "la lingua in cui ha parlato" not in quote.context(lang)


# --- Item 8: Korean register --------------------------------------------------------------------

# A sentence ending in a verb's plain or polite form, where a briefing ends in a noun (개조식).
SENTENCE_ENDING = re.compile(r"(다|요)(\.\s|\.?$)")


def test_8_korean_in_short_noun_ending_bullets(seeds: Seeds) -> None:
    for where, text in _all_texts(seeds):
        assert not SENTENCE_ENDING.search(text("ko")), (where, text("ko"))
    for key, text in catalogue().items():
        assert not SENTENCE_ENDING.search(text("ko")), (key, text("ko"))


def test_8_korean_time_zone_is_named_not_an_iana_id() -> None:
    assert label("zone_asia_seoul", "ko") == "한국 시간"
    assert "Asia/Seoul" not in label("time_zone_note", "ko", tz=label("zone_asia_seoul", "ko"))
    assert label("translation_from", "ko", language=label("lang_name_it", "ko")) == (
        "이탈리아어 원문 번역"
    )


def test_8_hangul_first_with_the_latin_spelling_after(seeds: Seeds) -> None:
    mentions = 0
    for where, text in _all_texts(seeds):
        korean = text("ko")
        assert "Kang Gijung / 강기정" not in korean, where
        assert "Stefano Lo Russo / 스테파노 로 루쏘" not in korean, where
        if "Kang Gijung" in korean:
            mentions += 1
            assert "강기정(Kang Gijung)" in korean or "강기정 / Kang Gijung" in korean, where
    assert mentions >= 3


def test_8_no_gloss_repeats_its_name(seeds: Seeds) -> None:
    for partnership in seeds.partnerships.values():
        for name in partnership.agreement.names:
            for lang in LANGS:
                assert name.gloss(lang) != name.name, (name.name, lang)
                assert name.gloss(lang).strip("“”‘’") != name.name


# --- Item 9: noise ------------------------------------------------------------------------------

TIME_NOT_STATED = ["time not stated", "orario non indicato", "시간 미상", "시각 미상"]


def test_9_no_time_not_stated_on_each_item_said_once_instead(seeds: Seeds) -> None:
    for visit in seeds.visits:
        for event in visit.programme:
            if event.when_note is None:
                continue
            for lang in LANGS:
                for phrase in TIME_NOT_STATED:
                    assert phrase not in event.when_note(lang).lower(), (event.id, lang)
    assert label("no_times", "en") == "no clock times published; order as reported"
    assert label("no_times", "it") == "orari non comunicati; ordine come riportato"
    assert label("no_times", "ko") == "※ 시각 미공개, 보도 순서"


def test_9_the_visitor_is_not_listed_as_meeting_himself(seeds: Seeds) -> None:
    for visit in seeds.visits:
        delegation = {p.id for p in visit.people if p.side == "delegation"}
        for event in visit.programme:
            assert not delegation & set(event.people), (visit.id, event.id)


def test_9_no_event_takes_place_merely_in_the_city(seeds: Seeds) -> None:
    for visit in seeds.visits:
        for event in visit.programme:
            if event.place is not None:
                assert visit.place(event.place).name("en") != "Gwangju", event.id


def test_9_lo_russo_and_his_party(seeds: Seeds) -> None:
    visit = august(seeds)
    assert "and his party" in visit.purpose.text("en")
    assert "일행" in visit.purpose.text("ko")
    timeline = seeds.partnerships["turin-gwangju"].timeline
    arrival = next(e for e in timeline if e.when == "2024-08-26")
    assert "and his party" in arrival.text("en")
    assert "일행" in arrival.text("ko")


def test_9_the_forums_aim_as_the_korean_article_states_it(seeds: Seeds) -> None:
    forum = _event(august(seeds), "forum")
    aims = [r for r in forum.reported if "미래차 산업 분야의 동반성장" in r.text("ko")]
    assert len(aims) == 1
    assert "미래차 산업 분야의 동반성장을 도모한다" in _cited(aims[0].cite)
    assert "shared growth in the future-car industry" in aims[0].text("en")
