"""The press articles a visit is built from: verbatim text under a small metadata header."""

import re
from datetime import date, datetime
from functools import cached_property
from pathlib import Path

from pydantic import Field

from briefings.dossier import Frozen
from briefings.languages import Lang

_FRONT_MATTER = re.compile(r"\A---\n(?P<header>.*?)\n---\n(?P<body>.*)\Z", re.DOTALL)
_SPACE = re.compile(r"\s+")


class Article(Frozen):
    id: str = Field(min_length=1)
    language: Lang
    outlet: str | None = None
    published: datetime | None = None
    # Where the page gives no date but its own tense shows it was written before a day (the
    # Italian article announces Monday's programme in the future): the latest it can date from.
    written_before: date | None = None
    title: str | None = None
    byline: str | None = None
    source_file: str
    body: str = Field(min_length=1, repr=False)

    def contains(self, quote: str) -> bool:
        """Whether `quote` occurs in the body, whitespace differences aside."""
        return normalise_space(quote) in self._normalised_body

    @cached_property
    def _normalised_body(self) -> str:
        return normalise_space(self.body)


def normalise_space(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


class ArticleFormatError(ValueError):
    pass


def parse_article(text: str) -> Article:
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise ArticleFormatError("expected a '---' metadata header followed by the article body")
    import yaml  # only when the seeds are read from their files, not from the cache

    header = yaml.safe_load(match["header"])
    if not isinstance(header, dict):
        raise ArticleFormatError("the metadata header must be a mapping")
    return Article.model_validate({**header, "body": match["body"]})


def read_article(path: Path) -> Article:
    return parse_article(path.read_text(encoding="utf-8"))
