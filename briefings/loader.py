"""Load every seed once and check it: citations against their articles, dates, references.

A broken seed yields `SeedError`s that name the file, the field and the reason, so whoever edits
a dossier can find the line to fix without reading a traceback.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ValidationError

from briefings.articles import Article, ArticleFormatError, normalise_space, read_article
from briefings.dossier import Citation, Visit
from briefings.languages import LANGS

try:  # The C loader is several times faster; fall back where libyaml is missing.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

QUOTE_BREAK = " […] "


@dataclass(frozen=True, slots=True)
class SeedError:
    file: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.reason}"


class SeedsInvalid(Exception):
    def __init__(self, errors: list[SeedError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Seeds:
    articles: dict[str, Article]
    visits: tuple[Visit, ...]

    @property
    def visit(self) -> Visit:
        """The visit the bot briefs on; the first by id while it ships with one."""
        return self.visits[0]


def load_seeds(seeds_dir: Path) -> Seeds:
    """Load and validate every article and visit, raising `SeedsInvalid` with all errors."""
    errors: list[SeedError] = []
    articles: dict[str, Article] = {}
    for path in sorted((seeds_dir / "articles").glob("*.txt")):
        try:
            article = read_article(path)
        except (ArticleFormatError, yaml.YAMLError) as exc:
            errors.append(SeedError(_name(path, seeds_dir), "header", str(exc)))
            continue
        except ValidationError as exc:
            errors.extend(_pydantic_errors(_name(path, seeds_dir), exc))
            continue
        if article.id in articles:
            errors.append(SeedError(_name(path, seeds_dir), "id", f"duplicate id {article.id!r}"))
        articles[article.id] = article

    visits: list[Visit] = []
    visit_paths = sorted((seeds_dir / "visits").glob("*.yaml"))
    if not visit_paths:
        errors.append(SeedError(str(seeds_dir / "visits"), "-", "no visit dossier (*.yaml)"))
    for path in visit_paths:
        name = _name(path, seeds_dir)
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        except yaml.YAMLError as exc:
            errors.append(SeedError(name, "-", f"not valid YAML: {exc}"))
            continue
        try:
            visit = Visit.model_validate(data)
        except ValidationError as exc:
            errors.extend(_pydantic_errors(name, exc))
            continue
        found = [SeedError(name, field, reason) for field, reason in check_visit(visit, articles)]
        errors.extend(found)
        if not found:
            visits.append(visit)
    if errors:
        raise SeedsInvalid(errors)
    return Seeds(articles=articles, visits=tuple(sorted(visits, key=lambda v: v.id)))


def check_visit(visit: Visit, articles: dict[str, Article]) -> Iterator[tuple[str, str]]:
    """What pydantic cannot see: facts against their articles and against each other."""
    for article_id in visit.articles:
        if article_id not in articles:
            yield "articles", f"unknown article {article_id!r}"
    for path, citation in _citations(visit, ""):
        article = articles.get(citation.article)
        if article is None or citation.article not in visit.articles:
            yield f"{path}.article", f"unknown article {citation.article!r}"
        elif not article.contains(citation.quote):
            yield (
                f"{path}.quote",
                f"not found in article {citation.article}: {_short(citation.quote)!r}",
            )

    try:
        ZoneInfo(visit.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        yield "timezone", f"unknown time zone {visit.timezone!r}"
    if visit.end < visit.start:
        yield "end", f"{visit.end} is before start {visit.start}"

    yield from _duplicates("people", [p.id for p in visit.people])
    yield from _duplicates("places", [p.id for p in visit.places])
    yield from _duplicates("programme", [e.id for e in visit.programme])
    yield from _duplicates("quotes", [q.id for q in visit.quotes])
    people = {p.id for p in visit.people}
    places = {p.id for p in visit.places}

    for i, person in enumerate(visit.people):
        for j, name in enumerate(person.names):
            article = articles.get(name.article)
            if article is None or not article.contains(name.text):
                yield f"people.{i}.names.{j}", f"{name.text!r} not found in article {name.article}"

    for i, event in enumerate(visit.programme):
        where = f"programme.{i}"
        if event.date is None:
            if event.when_note is None:
                yield f"{where}.when_note", "an undated event must say what is known of its date"
        elif not visit.start <= event.date <= visit.end:
            yield f"{where}.date", f"{event.date} is outside the visit ({visit.start}..{visit.end})"
        if event.place is not None and event.place not in places:
            yield f"{where}.place", f"unknown place {event.place!r}"
        for person_id in event.people:
            if person_id not in people:
                yield f"{where}.people", f"unknown person {person_id!r}"

    for i, quote in enumerate(visit.quotes):
        where = f"quotes.{i}"
        if quote.speaker is not None and quote.speaker not in people:
            yield f"{where}.speaker", f"unknown person {quote.speaker!r}"
        expected = set(LANGS) - {quote.lang}
        if set(quote.translations) != expected:
            wanted = ", ".join(sorted(expected))
            yield f"{where}.translations", f"needs exactly the translations {wanted}"
        cited = [articles[c.article] for c in quote.cite if c.article in articles]
        for part in quote.original.split(QUOTE_BREAK.strip()):
            segment = normalise_space(part).strip(" ,")
            if segment and not any(a.contains(segment) for a in cited):
                yield f"{where}.original", f"not found in the cited articles: {_short(segment)!r}"


def _citations(node: object, path: str) -> Iterator[tuple[str, Citation]]:
    if isinstance(node, Citation):
        yield path, node
    elif isinstance(node, BaseModel):
        for field in type(node).model_fields:
            yield from _citations(getattr(node, field), _join(path, field))
    elif isinstance(node, tuple | list):
        for i, item in enumerate(node):
            yield from _citations(item, _join(path, str(i)))


def _duplicates(field: str, ids: list[str]) -> Iterator[tuple[str, str]]:
    seen: set[str] = set()
    for i, item in enumerate(ids):
        if item in seen:
            yield f"{field}.{i}.id", f"duplicate id {item!r}"
        seen.add(item)


def _pydantic_errors(file: str, exc: ValidationError) -> list[SeedError]:
    errors = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "-"
        reason: str = error["msg"]
        value: Any = error.get("input")
        if error["type"] != "missing" and not isinstance(value, dict | list):
            reason = f"{reason} (got {_short(str(value))!r})"
        errors.append(SeedError(file, field, reason))
    return errors


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _name(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)
