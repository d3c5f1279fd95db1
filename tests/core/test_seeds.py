"""The shipped seeds: verbatim articles, every citation real, nothing in the articles left out;
the partnership above its two visits, one of them known only by its month."""

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from briefings.articles import normalise_space, parse_article
from briefings.dossier import Visit
from briefings.loader import Seeds, SeedsInvalid, load_seeds
from tests.cli import run_cli

from ..conftest import APRIL, AUGUST, SEEDS, august

IT = "000_aabc35dee4213ec7"
KO = "001_6b033fd5245a1789"
DOSSIER = SEEDS / "visits" / "turin-gwangju-2024.yaml"
APRIL_DOSSIER = SEEDS / "visits" / "kang-turin-2024-04.yaml"
PARTNERSHIP = SEEDS / "partnerships" / "turin-gwangju.yaml"
SEED_FILES = [DOSSIER, APRIL_DOSSIER, PARTNERSHIP]


def _raw_dossier(path: Path = DOSSIER) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _april(seeds: Seeds) -> Visit:
    return next(v for v in seeds.visits if v.id == APRIL)


def _citations(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, str]]]:
    """Every {article, quote} mapping in the raw YAML, found without the loader's help."""
    if isinstance(node, dict):
        if set(node) == {"article", "quote"}:
            yield path, node
        for key, value in node.items():
            yield from _citations(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _citations(value, f"{path}.{i}")


def test_the_dossiers_cite_a_lot() -> None:
    assert len(list(_citations(_raw_dossier()))) >= 60
    assert len(list(_citations(_raw_dossier(APRIL_DOSSIER)))) >= 20
    assert len(list(_citations(_raw_dossier(PARTNERSHIP)))) >= 15


@pytest.mark.parametrize(
    ("path", "citation"),
    [
        (f"{file.parent.name}/{file.name}{path}", citation)
        for file in SEED_FILES
        for path, citation in _citations(_raw_dossier(file))
    ],
    ids=lambda v: str(v)[:80],
)
def test_every_citation_occurs_in_its_article(path: str, citation: dict[str, str]) -> None:
    article = parse_article((SEEDS / "articles" / f"{citation['article']}.txt").read_text())
    assert normalise_space(citation["quote"]) in normalise_space(article.body), path


def test_the_shipped_partnership_and_both_visits_load(seeds: Seeds) -> None:
    assert list(seeds.partnerships) == ["turin-gwangju"]
    # By first day: April (month only) before August.
    assert [v.id for v in seeds.visits] == [APRIL, AUGUST]
    assert seeds.visits_of("turin-gwangju") == seeds.visits
    assert seeds.visits_of("elsewhere") == ()
    for visit in seeds.visits:
        assert seeds.partnership_of(visit) is seeds.partnerships["turin-gwangju"]


@pytest.mark.parametrize("visit_id", [APRIL, AUGUST])
def test_every_fact_carries_a_citation(seeds: Seeds, visit_id: str) -> None:
    visit = next(v for v in seeds.visits if v.id == visit_id)
    facts = [
        visit.purpose,
        *visit.people,
        *visit.places,
        *visit.programme,
        *visit.quotes,
        *visit.background,
        *visit.open_questions,
        *visit.source_notes,
    ]
    assert all(fact.cite for fact in facts)
    assert visit.dates_cite


def test_every_partnership_fact_carries_a_citation(seeds: Seeds) -> None:
    partnership = seeds.partnerships["turin-gwangju"]
    facts = [
        *partnership.cities,
        partnership.agreement,
        *partnership.agreement.names,
        *partnership.context,
        *partnership.timeline,
        *partnership.follow_ups,
    ]
    assert all(fact.cite for fact in facts)


@pytest.mark.parametrize("article_id", [IT, KO])
def test_shipped_articles_are_verbatim(shared_seeds: Path, article_id: str) -> None:
    original = (shared_seeds / f"{article_id}.txt").read_text(encoding="utf-8")
    shipped = parse_article((SEEDS / "articles" / f"{article_id}.txt").read_text())
    body = shipped.body.rstrip("\n")
    assert original.startswith(body)
    assert shipped.id == article_id


def test_korean_article_keeps_the_body_apart_from_site_furniture(shared_seeds: Path) -> None:
    original = (shared_seeds / f"{KO}.txt").read_text(encoding="utf-8")
    shipped = parse_article((SEEDS / "articles" / f"{KO}.txt").read_text())
    assert "PHOTO NEWS" in original
    assert "PHOTO NEWS" not in shipped.body
    assert "최신뉴스" not in shipped.body
    assert shipped.body.rstrip().endswith("[저작권자ⓒ 뉴스스텝. 무단전재-재배포 금지]")
    assert shipped.outlet == "뉴스스텝"
    assert shipped.published is not None
    assert shipped.published.isoformat() == "2024-08-27T17:15:48+09:00"


# --- The checklist, written from the articles -------------------------------------------------
# Each line: what an article says, and where the dossier must hold it.

PEOPLE = [
    ("Stefano Lo Russo", "lo-russo"),
    ("스테파노 로 루쏘", "lo-russo"),
    ("Kang Gijung", "kang"),
    ("강기정", "kang"),
    ("Emila Gatto", "gatto"),
    ("Park Seon-cheol", "park-seon-cheol"),
    ("Shin Su Jeong", "shin-su-jeong"),
]

EVENTS = [
    # (event id, date or None, a passage the event must cite)
    ("seoul-welcome", None, "accolto a Seoul dall'ambasciatrice italiana Emila Gatto"),
    ("transfer-to-gwangju", "2024-08-26", "Lunedì mattina Lo Russo si sposterà a Gwangju"),
    ("meeting-park", "2024-08-26", "Park Seon-cheol"),
    ("meeting-shin", "2024-08-26", "Shin Su Jeong"),
    ("visit-ai-cluster", "2024-08-26", "agenzia del cluster industriale per l'intelligenza"),
    ("visit-ai-data-center", "2024-08-26", "AI Data Center"),
    ("may-18-cemetery", "2024-08-27", "Cimitero Nazionale ‘18 Maggio’"),
    ("meeting-kang", "2024-08-27", "Municipio di Gwangju per incontrare il sindaco Kang Gijung"),
    ("meeting-kang", "2024-08-27", "27일 시청 접견실에서"),
    ("forum", "2024-08-27", "Gwangju Future Mobility Forum"),
    ("visit-ggm", "2024-08-27", "il sindaco visiterà il Gwangju Global Motors"),
]

PLACES = [
    ("seoul", "Seoul"),
    ("gwangju", "Gwangju"),
    ("ai-cluster-agency", "agenzia del cluster industriale"),
    ("ai-data-center", "AI Data Center"),
    ("may-18-cemetery", "Cimitero Nazionale"),
    ("gwangju-city-hall", "시청 접견실"),
    ("ggm-plant", "Gwangju Global Motors"),
    ("mirafiori", "Mirafiori"),
]

BACKGROUND = ["cassa integrazione", "미라피오리 콤플렉스", "피아트124", "노사상생형", "라이프치히"]


def _cites(fact: Any) -> str:
    return " ".join(normalise_space(c.quote) for c in fact.cite)


@pytest.mark.parametrize(("name", "person_id"), PEOPLE)
def test_checklist_people(seeds: Seeds, name: str, person_id: str) -> None:
    person = august(seeds).person(person_id)
    assert name in [n.text for n in person.names]


@pytest.mark.parametrize(("event_id", "day", "passage"), EVENTS)
def test_checklist_events(seeds: Seeds, event_id: str, day: str | None, passage: str) -> None:
    event = next(e for e in august(seeds).programme if e.id == event_id)
    assert (event.date.isoformat() if event.date else None) == day
    assert passage in _cites(event)


# What a source reported after the event (the Korean article, filed on the 27th at 17:15):
# (event id, a passage its `reported` must cite, and its own plan must not).
REPORTED = [
    ("visit-ai-data-center", "국가인공지능(AI)데이터센터"),
    ("forum", "제1회 글로벌 소부장포럼"),
    ("visit-ggm", "광주글로벌모터스"),
    ("meeting-kang", "경제·문화 등 다양한 정책에 대한 의견을 나눴다"),
    ("meeting-kang", "자동차산업 상호협력에 힘을 모으기로 했다"),
    ("meeting-kang", "정책제안서를 로 루쏘 시장에게 전달했다"),
]


@pytest.mark.parametrize(("event_id", "passage"), REPORTED)
def test_checklist_reported(seeds: Seeds, event_id: str, passage: str) -> None:
    event = next(e for e in august(seeds).programme if e.id == event_id)
    assert passage in " ".join(_cites(r) for r in event.reported)
    assert passage not in _cites(event)


@pytest.mark.parametrize(("place_id", "passage"), PLACES)
def test_checklist_places(seeds: Seeds, place_id: str, passage: str) -> None:
    assert passage in _cites(august(seeds).place(place_id))


@pytest.mark.parametrize("passage", BACKGROUND)
def test_checklist_background_and_context(seeds: Seeds, passage: str) -> None:
    visit = august(seeds)
    context = seeds.partnership_of(visit).context
    cited = " ".join(_cites(s) for s in [*visit.background, *context])
    assert passage in cited


# --- The partnership and the April visit, from the articles -----------------------------------


def test_checklist_partnership(seeds: Seeds) -> None:
    partnership = seeds.partnerships["turin-gwangju"]
    assert [c.id for c in partnership.cities] == ["turin", "gwangju"]
    agreement = partnership.agreement
    assert agreement.signed == "2024-04"
    assert "토리노시청" in _cites(agreement)
    assert "140주년" in _cites(agreement)
    assert "nello scorso mese di aprile" in _cites(agreement)
    # One agreement under the names each source gives it.
    assert [n.name for n in agreement.names] == [
        "patto di collaborazione",
        "우호협력 협정",
        "우호협약",
    ]
    assert [(e.when, e.visit) for e in partnership.timeline] == [
        ("2024-04", APRIL),
        ("2024-04", APRIL),
        ("2024-08-26", AUGUST),
        ("2024-08-27", AUGUST),
    ]


FOLLOW_UPS = [
    ("kang-policy-proposal", "proposed", AUGUST, "정책제안서를 로 루쏘 시장에게 전달했다"),
    ("circular-economy-pilot", "under_consideration", APRIL, "시범 운영하는 방안을 구상 중이다"),
    ("promote-gwangju", "pledged", AUGUST, "‘광주 알리기’에 더욱 노력하겠다"),
]


@pytest.mark.parametrize(("follow_up_id", "status", "visit_id", "passage"), FOLLOW_UPS)
def test_checklist_follow_ups(
    seeds: Seeds, follow_up_id: str, status: str, visit_id: str, passage: str
) -> None:
    follow_up = seeds.partnerships["turin-gwangju"].follow_up(follow_up_id)
    assert (follow_up.status, follow_up.visit) == (status, visit_id)
    assert passage in _cites(follow_up)


def test_the_april_visit_is_known_by_its_month_only(seeds: Seeds) -> None:
    visit = _april(seeds)
    assert (visit.start, visit.end, visit.month) == (None, None, "2024-04")
    assert visit.days == ()
    assert visit.dated is False
    assert (visit.first_day, visit.last_day) == (date(2024, 4, 1), date(2024, 4, 30))
    assert visit.timezone == "Europe/Rome"
    assert visit.events_on(date(2024, 4, 15)) == ()
    assert visit.undated_events == visit.programme
    for event in visit.programme:
        assert event.date is None
        assert event.part_of_day is None
        assert event.when_note is not None
        assert event.when_note("en") == "April 2024; day not stated"
    # Nothing the articles report was said on this visit.
    assert visit.quotes == ()
    # What neither source states: the days and the delegation.
    unstated = " ".join(n.text("en") for n in visit.source_notes if n.kind == "not_stated")
    assert "The days" in unstated
    assert "The delegation" in unstated


def test_the_august_visit_has_its_days(seeds: Seeds) -> None:
    visit = august(seeds)
    assert visit.dated is True
    assert visit.days == (date(2024, 8, 26), date(2024, 8, 27), date(2024, 8, 28))
    assert (visit.first_day, visit.last_day) == (date(2024, 8, 26), date(2024, 8, 28))


APRIL_CHECKLIST = [
    # (event id, place id, people, a passage the event must cite)
    # `people` are whom the visitor meets, never the visitor (Kang) himself.
    ("agreement-signing", "turin-city-hall", ("lo-russo",), "이탈리아 토리노시청에서 만나"),
    ("ce-hub-visit", "mirafiori-ce-hub", (), "‘순환경제 허브(CE:Circular Economy Hub)’"),
]


@pytest.mark.parametrize(("event_id", "place_id", "people", "passage"), APRIL_CHECKLIST)
def test_checklist_april_programme(
    seeds: Seeds, event_id: str, place_id: str, people: tuple[str, ...], passage: str
) -> None:
    visit = _april(seeds)
    event = next(e for e in visit.programme if e.id == event_id)
    assert (event.place, event.people) == (place_id, people)
    assert passage in _cites(event)
    assert visit.person("kang").side == "delegation"
    assert visit.person("lo-russo").side == "host"


def _quoted_passages(body: str) -> list[str]:
    """Every passage the articles put in quotation marks, interruptions removed."""
    italian = re.findall(r"«(.+?)»", body, flags=re.DOTALL)
    korean = re.findall(r"“(.+?)”", body, flags=re.DOTALL)
    passages = []
    for text in [*italian, *korean]:
        # «A – afferma X – B» is one quote in two parts.
        passages.extend(part.strip(" ,") for part in re.split(r" – [^–]+ – ", text))
    return [normalise_space(p) for p in passages if p.strip()]


def test_checklist_finds_the_quotes_of_both_articles() -> None:
    bodies = [parse_article((SEEDS / "articles" / f"{a}.txt").read_text()).body for a in (IT, KO)]
    found = [p for body in bodies for p in _quoted_passages(body)]
    # 2 Italian quotes in 2 parts each; 9 Korean quotes, one of them in the headline.
    assert len(found) == 13


# The Korean article's sub-heading: the paper's own words, not anyone's quote.
SUB_HEADING = "강기정-로 루쏘 시장 광주서 맞손…“도시 경쟁력 강화 기회”"


def test_checklist_every_quote_is_in_the_dossier(seeds: Seeds) -> None:
    originals = " ".join(normalise_space(q.original) for q in august(seeds).quotes)
    assert SUB_HEADING in seeds.articles[KO].body
    for article_id in (IT, KO):
        body = seeds.articles[article_id].body
        for passage in _quoted_passages(body):
            if passage in SUB_HEADING:
                assert passage not in originals, passage
            else:
                assert passage in originals, passage


def test_quotes_have_speakers_and_translations(seeds: Seeds) -> None:
    quotes = {q.id: q for q in august(seeds).quotes}
    assert {q.speaker for q in quotes.values()} == {"lo-russo", "kang"}
    for quote in quotes.values():
        assert set(quote.translations) | {quote.lang} == {"en", "it", "ko"}


# --- `briefing-bot check` on broken copies ------------------------------------------------


def _broken_copy(tmp_path: Path, old: str, new: str, dossier: Path = DOSSIER) -> Path:
    root = tmp_path / "seeds"
    if not root.exists():
        shutil.copytree(SEEDS, root)
    target = root / dossier.relative_to(SEEDS)
    text = target.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return root


def _check(seeds_dir: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`briefing-bot check` as a user runs it, away from any developer's .env or home."""
    return run_cli("check", env={"BRIEFINGS_SEEDS_DIR": str(seeds_dir)}, cwd=tmp_path)


def test_check_passes_on_the_shipped_seeds(tmp_path: Path) -> None:
    result = _check(SEEDS, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: 2 article(s), 1 partnership(s), 2 visit(s), ")


BROKEN = [
    pytest.param(
        DOSSIER,
        "quote: il sindaco Kang Gijung\n",
        "quote: il sindaco Kang Gi-jung\n",
        "people.1.cite.0.quote",
        "not found in article",
        id="quote",
    ),
    pytest.param(
        DOSSIER,
        "  - id: visit-ggm\n    date: 2024-08-27",
        "  - id: visit-ggm\n    date: 2024-08-30",
        "programme.9.date",
        "outside the visit",
        id="date",
    ),
    pytest.param(
        DOSSIER,
        "      ko: 인공지능 산업 클러스터 기관 견학\n",
        "",
        "programme.4.title.ko",
        "Field required",
        id="translation",
    ),
    pytest.param(
        DOSSIER,
        "partnership: turin-gwangju ",
        "partnership: turin-leipzig ",
        "partnership",
        "unknown partnership 'turin-leipzig'",
        id="unknown-partnership",
    ),
    pytest.param(
        APRIL_DOSSIER,
        'month: "2024-04"\n',
        'month: "2024-04"\nstart: 2024-04-10\n',
        "month",
        "either start and end (the days) or month, not both",
        id="start-and-month",
    ),
    pytest.param(
        APRIL_DOSSIER,
        'month: "2024-04"\n',
        'month: "April 2024"\n',
        "month",
        "a month is written YYYY-MM",
        id="month-format",
    ),
    pytest.param(
        APRIL_DOSSIER,
        "  - id: ce-hub-visit\n    date: null\n",
        "  - id: ce-hub-visit\n    date: 2024-04-12\n",
        "programme.1.date",
        "the visit's days are not stated",
        id="dated-event-of-a-month-visit",
    ),
    pytest.param(
        PARTNERSHIP,
        "quote: 광주에서 시범 운영하는 방안을 구상 중이다.",
        "quote: 광주에서 시범 운영을 확정했다.",
        "follow_ups.1.cite.0.quote",
        "not found in article 001_6b033fd5245a1789",
        id="partnership-quote",
    ),
    pytest.param(
        PARTNERSHIP,
        "    status: pledged\n    visit: turin-gwangju-2024\n",
        "    status: pledged\n    visit: turin-gwangju-2025\n",
        "follow_ups.2.visit",
        "unknown visit 'turin-gwangju-2025'",
        id="partnership-unknown-visit",
    ),
    pytest.param(
        PARTNERSHIP,
        "  - when: 2024-08-26\n    visit: turin-gwangju-2024\n",
        "  - when: 2024-08-26\n    visit: kang-turin-2024-04\n",
        "timeline.2.when",
        "outside visit 'kang-turin-2024-04'",
        id="timeline-outside-its-visit",
    ),
    pytest.param(
        PARTNERSHIP,
        "    - name: 우호협약\n",
        "    - name: 우호 협약서\n",
        "agreement.names.2.name",
        "not found in its cited articles",
        id="agreement-name",
    ),
]


@pytest.mark.parametrize(("dossier", "old", "new", "field", "reason"), BROKEN)
def test_check_names_file_field_and_reason(
    tmp_path: Path, dossier: Path, old: str, new: str, field: str, reason: str
) -> None:
    result = _check(_broken_copy(tmp_path, old, new, dossier), tmp_path)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if f": {field}: " in line]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"seeds/{dossier.parent.name}/{dossier.name}: ")
    assert reason in lines[0]


def test_check_names_a_partnership_fact_without_citation(tmp_path: Path) -> None:
    root = tmp_path / "seeds"
    shutil.copytree(SEEDS, root)
    target = root / "partnerships" / PARTNERSHIP.name
    data = yaml.safe_load(target.read_text(encoding="utf-8"))
    del data["follow_ups"][1]["cite"]
    target.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = _check(root, tmp_path)
    assert result.returncode != 0
    assert (
        "seeds/partnerships/turin-gwangju.yaml: follow_ups.1.cite: Field required"
        in result.stderr.splitlines()
    )


def test_a_visit_without_dates_is_refused(tmp_path: Path) -> None:
    root = _broken_copy(tmp_path, 'month: "2024-04"\n', "", APRIL_DOSSIER)
    with pytest.raises(SeedsInvalid) as caught:
        load_seeds(root)
    assert [(e.file, e.field) for e in caught.value.errors] == [
        ("seeds/visits/kang-turin-2024-04.yaml", "month")
    ]
    assert "give start and end" in caught.value.errors[0].reason


def test_a_visit_ending_before_it_starts_is_refused(tmp_path: Path) -> None:
    root = _broken_copy(tmp_path, "end: 2024-08-28", "end: 2024-08-25")
    with pytest.raises(SeedsInvalid) as caught:
        load_seeds(root)
    assert ("end", "2024-08-25 is before start 2024-08-26") in [
        (e.field, e.reason) for e in caught.value.errors
    ]


def test_duplicate_visit_ids_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "seeds"
    shutil.copytree(SEEDS, root)
    shutil.copy(root / "visits" / DOSSIER.name, root / "visits" / "zz-copy.yaml")
    with pytest.raises(SeedsInvalid) as caught:
        load_seeds(root)
    assert [(e.file, e.field) for e in caught.value.errors] == [("seeds/visits/zz-copy.yaml", "id")]


def test_a_broken_visit_is_not_also_an_unknown_reference(tmp_path: Path) -> None:
    """The partnership's references to a visit whose file does not parse are not reported
    again as unknown: the one error to fix is in the visit's file."""
    root = _broken_copy(
        tmp_path, "timezone: Europe/Rome\n", "timezone: [Europe/Rome\n", APRIL_DOSSIER
    )
    with pytest.raises(SeedsInvalid) as caught:
        load_seeds(root)
    assert {e.file for e in caught.value.errors} == {"seeds/visits/kang-turin-2024-04.yaml"}


def test_loader_reports_every_error_at_once(tmp_path: Path) -> None:
    root = _broken_copy(tmp_path, "date: 2024-08-27", "date: 2024-09-27")
    dossier = root / "visits" / DOSSIER.name
    text = dossier.read_text(encoding="utf-8").replace("quote: Park Seon-cheol", "quote: Park X")
    dossier.write_text(text, encoding="utf-8")
    with pytest.raises(SeedsInvalid) as caught:
        load_seeds(root)
    fields = {e.field for e in caught.value.errors}
    assert any(f.endswith(".date") for f in fields)
    assert any(f.startswith("source_notes") and f.endswith(".quote") for f in fields)


def _edited(tmp_path: Path, visit: str, edit: Any) -> Path:
    """A copy of the shipped seeds with one visit's YAML changed by `edit(data)`."""
    root = tmp_path / "seeds"
    shutil.copytree(SEEDS, root)
    path = root / "visits" / f"{visit}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


def test_check_fails_on_an_outcome_without_a_reporting_article(tmp_path: Path) -> None:
    italian = "000_aabc35dee4213ec7"

    def report_from_the_italian_article(data: dict[str, Any]) -> None:
        event = data["programme"][0]
        event["reported"] = [{"text": {"en": "x", "it": "x", "ko": "x"}, "cite": event["cite"][:1]}]
        assert event["cite"][0]["article"] == italian

    result = _check(_edited(tmp_path, AUGUST, report_from_the_italian_article), tmp_path)
    assert result.returncode == 1
    assert "visits/turin-gwangju-2024.yaml: programme.0.reported.0.cite.0:" in result.stderr
    assert f"published; {italian} does not" in result.stderr


def test_check_fails_on_a_summary_longer_than_one_screen(tmp_path: Path) -> None:
    def long_points(data: dict[str, Any]) -> None:
        cite = data["purpose"]["cite"][:1]
        wordy = {lang: "word " * 150 for lang in ("en", "it", "ko")}
        data["summary"] = {
            "points": [{"text": wordy, "cite": cite}, {"text": wordy, "cite": cite}],
            "unknown": {"text": wordy, "cite": cite},
        }

    result = _check(_edited(tmp_path, AUGUST, long_points), tmp_path)
    assert result.returncode == 1
    assert "turin-gwangju-2024: summary (day 2, en, telegram): " in result.stderr
    assert "characters (at most 1000)" in result.stderr
    assert "would not fit one phone screen" in result.stderr


def test_check_fails_on_a_host_that_is_not_a_city_of_the_partnership(tmp_path: Path) -> None:
    def elsewhere(data: dict[str, Any]) -> None:
        data["host"] = "milan"

    result = _check(_edited(tmp_path, AUGUST, elsewhere), tmp_path)
    assert result.returncode == 1
    assert "host: 'milan' is not a city of the partnership" in result.stderr
