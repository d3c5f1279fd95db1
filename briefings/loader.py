"""Load every seed once and check it: citations against their articles, dates, references
(articles, partnerships, and the visits that belong to them).

A broken seed yields `SeedError`s that name the file, the field and the reason, so whoever edits
a dossier can find the line to fix without reading a traceback.
"""

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ValidationError

from briefings.articles import Article, ArticleFormatError, normalise_space, read_article
from briefings.dossier import Citation, Visit, span_of
from briefings.languages import LANGS
from briefings.partnership import Partnership

QUOTE_BREAK = " […] "
_M = TypeVar("_M", bound=BaseModel)


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
    partnerships: dict[str, Partnership]
    # By first day, then id: the order in which a partnership office lists them.
    visits: tuple[Visit, ...]

    def visits_of(self, partnership_id: str) -> tuple[Visit, ...]:
        return tuple(v for v in self.visits if v.partnership == partnership_id)

    def partnership_of(self, visit: Visit) -> Partnership:
        """The loader guarantees that every visit's partnership exists."""
        return self.partnerships[visit.partnership]


def load_seeds(seeds_dir: Path) -> Seeds:
    """Load and validate every article, partnership and visit, raising `SeedsInvalid` with all
    errors at once."""
    # Imported here: a start served from the seeds cache never parses YAML.
    import yaml

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

    partnerships: dict[str, tuple[str, Partnership]] = {}
    unread_partnerships: set[str] = set()
    for name, partnership in _models(
        seeds_dir, "partnerships", Partnership, errors, unread_partnerships
    ):
        if partnership.id in partnerships:
            errors.append(SeedError(name, "id", f"duplicate id {partnership.id!r}"))
            continue
        partnerships[partnership.id] = (name, partnership)

    # Every visit that parsed, checked or not: a reference to a visit with a wrong quote is not
    # also an unknown visit.
    visits: dict[str, tuple[str, Visit]] = {}
    valid: list[Visit] = []
    unread_visits: set[str] = set()
    for name, visit in _models(seeds_dir, "visits", Visit, errors, unread_visits):
        found = [SeedError(name, field, reason) for field, reason in check_visit(visit, articles)]
        known = visit.partnership in partnerships or visit.partnership in unread_partnerships
        if not known:
            found.append(
                SeedError(name, "partnership", f"unknown partnership {visit.partnership!r}")
            )
        elif visit.partnership in partnerships:
            cities = {c.id for c in partnerships[visit.partnership][1].cities}
            if visit.host not in cities:
                found.append(
                    SeedError(name, "host", f"{visit.host!r} is not a city of the partnership")
                )
        if visit.id in visits:
            found.append(SeedError(name, "id", f"duplicate id {visit.id!r}"))
        else:
            visits[visit.id] = (name, visit)
        errors.extend(found)
        if not found:
            valid.append(visit)

    by_id = {visit_id: visit for visit_id, (_, visit) in visits.items()}
    for partnership_name, partnership in partnerships.values():
        errors.extend(
            SeedError(partnership_name, field, reason)
            for field, reason in check_partnership(partnership, articles, by_id, unread_visits)
        )
    if errors:
        raise SeedsInvalid(errors)
    return Seeds(
        articles=articles,
        partnerships={p.id: p for _, p in partnerships.values()},
        visits=tuple(sorted(valid, key=lambda v: (v.first_day, v.id))),
    )


def _models(
    seeds_dir: Path, folder: str, model: type[_M], errors: list[SeedError], unread: set[str]
) -> Iterator[tuple[str, _M]]:
    """Each `folder/*.yaml` as a `model`, with its file's display name; errors go to `errors`.

    A file that does not parse adds its name (by convention its id) to `unread`, so that
    references to it are not reported a second time as unknown."""
    import yaml

    try:  # The C loader is several times faster; fall back where libyaml is missing.
        from yaml import CSafeLoader as Loader
    except ImportError:  # pragma: no cover - depends on how PyYAML was built
        from yaml import SafeLoader as Loader  # type: ignore[assignment]

    paths = sorted((seeds_dir / folder).glob("*.yaml"))
    if not paths:
        errors.append(SeedError(str(seeds_dir / folder), "-", f"no {folder} (*.yaml)"))
    for path in paths:
        name = _name(path, seeds_dir)
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)
        except yaml.YAMLError as exc:
            errors.append(SeedError(name, "-", f"not valid YAML: {exc}"))
            unread.add(path.stem)
            continue
        try:
            yield name, model.model_validate(data)
        except ValidationError as exc:
            errors.extend(_pydantic_errors(name, exc))
            unread.add(path.stem)


def check_partnership(
    partnership: Partnership,
    articles: dict[str, Article],
    visits: dict[str, Visit],
    unread: Collection[str] = (),
) -> Iterator[tuple[str, str]]:
    """What pydantic cannot see: citations, the agreement's names, references to visits
    (other than to `unread` ones, whose own errors are reported already)."""
    yield from _check_citations(partnership, partnership.articles, articles)
    yield from _duplicates("cities", [c.id for c in partnership.cities])
    yield from _duplicates("follow_ups", [f.id for f in partnership.follow_ups])

    for i, name in enumerate(partnership.agreement.names):
        cited = [articles[c.article] for c in name.cite if c.article in articles]
        if not any(a.contains(name.name) for a in cited):
            yield f"agreement.names.{i}.name", f"{name.name!r} not found in its cited articles"

    previous = ""
    for i, entry in enumerate(partnership.timeline):
        if entry.when < previous:
            yield f"timeline.{i}.when", f"{entry.when} comes before {previous}: keep the order"
        previous = entry.when
        yield from _visit_reference(f"timeline.{i}", entry.visit, partnership, visits, unread)
        visit = visits.get(entry.visit) if entry.visit else None
        if visit is not None:
            first, last = span_of(entry.when)
            if last < visit.first_day or first > visit.last_day:
                yield (
                    f"timeline.{i}.when",
                    f"{entry.when} is outside visit {visit.id!r} "
                    f"({visit.first_day}..{visit.last_day})",
                )
    for i, follow_up in enumerate(partnership.follow_ups):
        yield from _visit_reference(f"follow_ups.{i}", follow_up.visit, partnership, visits, unread)


def _visit_reference(
    where: str,
    visit_id: str | None,
    partnership: Partnership,
    visits: dict[str, Visit],
    unread: Collection[str],
) -> Iterator[tuple[str, str]]:
    if visit_id is None or visit_id in unread:
        return
    visit = visits.get(visit_id)
    if visit is None:
        yield f"{where}.visit", f"unknown visit {visit_id!r}"
    elif visit.partnership != partnership.id:
        yield (
            f"{where}.visit",
            f"visit {visit_id!r} belongs to partnership {visit.partnership!r}",
        )


def _check_citations(
    node: BaseModel, allowed: tuple[str, ...], articles: dict[str, Article]
) -> Iterator[tuple[str, str]]:
    for article_id in allowed:
        if article_id not in articles:
            yield "articles", f"unknown article {article_id!r}"
    for path, citation in _citations(node, ""):
        article = articles.get(citation.article)
        if article is None or citation.article not in allowed:
            yield f"{path}.article", f"unknown article {citation.article!r}"
        elif not article.contains(citation.quote):
            yield (
                f"{path}.quote",
                f"not found in article {citation.article}: {_short(citation.quote)!r}",
            )


def check_visit(visit: Visit, articles: dict[str, Article]) -> Iterator[tuple[str, str]]:
    """What pydantic cannot see: facts against their articles and against each other."""
    yield from _check_citations(visit, visit.articles, articles)

    try:
        ZoneInfo(visit.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        yield "timezone", f"unknown time zone {visit.timezone!r}"
    if visit.start is not None and visit.end is not None and visit.end < visit.start:
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
        for j, outcome in enumerate(event.reported):
            for k, citation in enumerate(outcome.cite):
                article = articles.get(citation.article)
                if article is not None and article.published is None:
                    yield (
                        f"programme.{i}.reported.{j}.cite.{k}",
                        f"an outcome needs a reporting article that states when it was "
                        f"published; {citation.article} does not",
                    )
    for i, event in enumerate(visit.programme):
        where = f"programme.{i}"
        if event.date is None:
            if event.when_note is None:
                yield f"{where}.when_note", "an undated event must say what is known of its date"
        elif not visit.dated:
            yield (
                f"{where}.date",
                f"the visit's days are not stated (month {visit.month}): its events have "
                "date: null and a when_note",
            )
        elif not visit.first_day <= event.date <= visit.last_day:
            yield (
                f"{where}.date",
                f"{event.date} is outside the visit ({visit.first_day}..{visit.last_day})",
            )
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
