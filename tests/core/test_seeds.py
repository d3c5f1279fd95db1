"""The shipped seeds: verbatim articles, every citation real, nothing in the articles left out."""

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from briefings.articles import normalise_space, parse_article
from briefings.loader import Seeds, SeedsInvalid, load_seeds
from tests.cli import run_cli

from ..conftest import SEEDS

IT = "000_aabc35dee4213ec7"
KO = "001_6b033fd5245a1789"
DOSSIER = SEEDS / "visits" / "turin-gwangju-2024.yaml"


def _raw_dossier() -> Any:
    return yaml.safe_load(DOSSIER.read_text(encoding="utf-8"))


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


def test_the_dossier_cites_a_lot() -> None:
    assert len(list(_citations(_raw_dossier()))) >= 60


@pytest.mark.parametrize(
    ("path", "citation"), list(_citations(_raw_dossier())), ids=lambda v: str(v)[:60]
)
def test_every_citation_occurs_in_its_article(path: str, citation: dict[str, str]) -> None:
    article = parse_article((SEEDS / "articles" / f"{citation['article']}.txt").read_text())
    assert normalise_space(citation["quote"]) in normalise_space(article.body), path


def test_every_fact_carries_a_citation(seeds: Seeds) -> None:
    visit = seeds.visit
    facts = [
        visit.purpose,
        visit.partnership,
        *visit.partnership.names,
        *visit.partnership.context,
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
    ("visit-ai-data-center", "2024-08-26", "국가인공지능(AI)데이터센터"),
    ("may-18-cemetery", "2024-08-27", "Cimitero Nazionale ‘18 Maggio’"),
    ("meeting-kang", "2024-08-27", "Municipio di Gwangju per incontrare il sindaco Kang Gijung"),
    ("meeting-kang", "2024-08-27", "27일 시청 접견실에서"),
    ("meeting-kang", "2024-08-27", "정책제안서"),
    ("forum", "2024-08-27", "Gwangju Future Mobility Forum"),
    ("forum", "2024-08-27", "제1회 글로벌 소부장포럼"),
    ("visit-ggm", "2024-08-27", "il sindaco visiterà il Gwangju Global Motors"),
    ("visit-ggm", "2024-08-27", "광주글로벌모터스"),
]

PLACES = [
    ("seoul", "Seoul"),
    ("gwangju", "Gwangju"),
    ("ai-cluster-agency", "agenzia del cluster industriale"),
    ("ai-data-center", "AI Data Center"),
    ("may-18-cemetery", "Cimitero Nazionale"),
    ("gwangju-city-hall", "시청 접견실"),
    ("ggm-plant", "Gwangju Global Motors"),
    ("turin-city-hall", "토리노시청"),
    ("mirafiori", "Mirafiori"),
]

BACKGROUND = ["cassa integrazione", "미라피오리 콤플렉스", "피아트124", "노사상생형", "라이프치히"]


def _cites(fact: Any) -> str:
    return " ".join(normalise_space(c.quote) for c in fact.cite)


@pytest.mark.parametrize(("name", "person_id"), PEOPLE)
def test_checklist_people(seeds: Seeds, name: str, person_id: str) -> None:
    person = seeds.visit.person(person_id)
    assert name in [n.text for n in person.names]


@pytest.mark.parametrize(("event_id", "day", "passage"), EVENTS)
def test_checklist_events(seeds: Seeds, event_id: str, day: str | None, passage: str) -> None:
    event = next(e for e in seeds.visit.programme if e.id == event_id)
    assert (event.date.isoformat() if event.date else None) == day
    assert passage in _cites(event)


@pytest.mark.parametrize(("place_id", "passage"), PLACES)
def test_checklist_places(seeds: Seeds, place_id: str, passage: str) -> None:
    assert passage in _cites(seeds.visit.place(place_id))


@pytest.mark.parametrize("passage", BACKGROUND)
def test_checklist_background_and_context(seeds: Seeds, passage: str) -> None:
    visit = seeds.visit
    cited = " ".join(_cites(s) for s in [*visit.background, *visit.partnership.context])
    assert passage in cited


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


def test_checklist_every_quote_is_in_the_dossier(seeds: Seeds) -> None:
    originals = " ".join(normalise_space(q.original) for q in seeds.visit.quotes)
    for article_id in (IT, KO):
        body = seeds.articles[article_id].body
        for passage in _quoted_passages(body):
            assert passage in originals, passage


def test_quotes_have_speakers_and_translations(seeds: Seeds) -> None:
    quotes = {q.id: q for q in seeds.visit.quotes}
    assert {q.speaker for q in quotes.values()} == {"lo-russo", "kang", None}
    for quote in quotes.values():
        assert set(quote.translations) | {quote.lang} == {"en", "it", "ko"}


# --- `briefing-bot check` on broken copies ------------------------------------------------


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    root = tmp_path / "seeds"
    shutil.copytree(SEEDS, root)
    dossier = root / "visits" / DOSSIER.name
    text = dossier.read_text(encoding="utf-8")
    assert old in text
    dossier.write_text(text.replace(old, new, 1), encoding="utf-8")
    return root


def _check(seeds_dir: Path) -> subprocess.CompletedProcess[str]:
    return run_cli("check", env={"BRIEFINGS_SEEDS_DIR": str(seeds_dir)})


def test_check_passes_on_the_shipped_seeds() -> None:
    result = _check(SEEDS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok:")


BROKEN = [
    pytest.param(
        "quote: il sindaco Kang Gijung\n",
        "quote: il sindaco Kang Gi-jung\n",
        "people.1.cite.0.quote",
        "not found in article",
        id="quote",
    ),
    pytest.param(
        "  - id: visit-ggm\n    date: 2024-08-27",
        "  - id: visit-ggm\n    date: 2024-08-30",
        "programme.9.date",
        "outside the visit",
        id="date",
    ),
    pytest.param(
        "      ko: 인공지능 산업 클러스터 기관 견학\n",
        "",
        "programme.4.title.ko",
        "Field required",
        id="translation",
    ),
]


@pytest.mark.parametrize(("old", "new", "field", "reason"), BROKEN)
def test_check_names_file_field_and_reason(
    tmp_path: Path, old: str, new: str, field: str, reason: str
) -> None:
    result = _check(_broken_copy(tmp_path, old, new))
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if f": {field}: " in line]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"seeds/visits/{DOSSIER.name}: ")
    assert reason in lines[0]


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
