"""Find people by any spelling a user might type: case, accents, spaces and script aside."""

import re
from collections.abc import Sequence

from briefings.dossier import Person
from briefings.folding import fold

_NOT_WORD = re.compile(r"[\W_]+")


def _words(text: str) -> list[str]:
    return [w for w in _NOT_WORD.split(fold(text)) if w]


def find_people(people: Sequence[Person], query: str) -> list[Person]:
    """People whose names contain every word of the query, spaces ignored within names.

    `kang`, `KANG`, `강기정`, `lo russo`, `lorusso` and `로 루쏘` all find someone; so do the
    people's roles (`ambassador`, `sindaco`) as a fallback when no name matches.
    """
    words = _words(query)
    if not words:
        return []
    by_name = [p for p in people if _matches(words, [n.text for n in p.names])]
    if by_name:
        return by_name
    return [p for p in people if _matches(words, [p.role.en, p.role.it, p.role.ko])]


def _matches(words: list[str], texts: list[str]) -> bool:
    haystacks = [fold(t) for t in texts] + ["".join(_words(t)) for t in texts]
    return all(any(w in h for h in haystacks) for w in words)
