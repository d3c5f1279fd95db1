"""Find people by any spelling users type: case, accents, spaces, script and romanisation aside.

Three tiers, the first that finds anyone wins, so an exact spelling is never drowned by a guess:

1. Names as written: every word of the query is part of one of the person's names as a source
   writes it, or of a variant (`NameVariant`, e.g. "Emilia" for the article's "Emila"), spaces
   inside the name ignored (`lorusso`, `Lo Russo`, `로 루쏘`, `emila`, `emilia`).
2. Names as they sound: every word's phonetic key starts a word or syllable of a name's key
   (`kang gi-jung`, `gang gijeong`, `루소`, `로루소`, `박선철` for "Park Seon-cheol"). Hangul is
   romanised first, so the sound crosses scripts in both directions; a Hangul query matches a
   Latin name by sound only, and the reply still shows only what the sources write.
3. Roles, as before (`sindaco`, `ambassador`).

A query needs two letters (or syllables) at least: one letter would find half the visit.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from briefings.dossier import Person
from briefings.folding import fold

_NOT_WORD = re.compile(r"[\W_]+")
_HANGUL_SYLLABLE = re.compile(r"[\uac00-\ud7a3]")
# Within a Latin name, these separate the units a phonetic query may start at.
_LATIN_UNITS = re.compile(r"[^a-z]+")
_SHORTEST_QUERY = 2
# Latin query words this long may match inside a word; shorter ones only at its start.
_ANYWHERE = 3

# Sounds that romanisations of one Korean name write differently, each folded to one letter.
# Order matters: digraphs before the single letters they contain.
_SAME_SOUND = (
    ("ch", "j"),  # ㅈ/ㅊ: j and ch (Revised), ch and ch' (McCune-Reischauer)
    ("sh", "s"),  # 신: Sin (Revised), Shin (as people write it)
    ("eo", "u"),  # ㅓ: Gijeong (Revised), Gijung (the Italian article)
    ("eu", "u"),  # ㅡ: Seu (Revised), Su, Sŭ
    ("oo", "u"),  # ㅜ: Su, Soo
    ("ae", "e"),  # ㅐ/ㅔ: heard alike
    ("g", "k"),  # ㄱ: Gang (Revised), Kang (the Italian article)
    ("d", "t"),  # ㄷ
    ("b", "p"),  # ㅂ: Bak (Revised), Park
    ("r", "l"),  # ㄹ: ro and lo, Russo and 루쏘
)
# An r before a consonant or at the end is English spelling, silent: Park for 박 (Revised: Bak).
# Korean romanisation writes a final ㄹ as l, so no Korean sound is lost.
_SILENT_R = re.compile(r"(?<=[aeiou])r(?![aeiouwy])")
_DOUBLED = re.compile(r"(.)\1+")


def _words(text: str) -> list[str]:
    return [w for w in _NOT_WORD.split(fold(text)) if w]


def sound_key(latin: str) -> str:
    """The sound of a Latin spelling, for comparing romanisations of Korean names.

    Why a key and not a table of names: the names come from data files, so a table would need an
    entry for every person ever added, while the few ways romanisations differ are known and
    finite. The key merges exactly those (k/g, t/d, p/b, ch/j, sh/s, eo/eu/oo/u, ae/e, r/l,
    doubled letters, an English silent r: `Kang Gijung`, `gang gijeong` and `강기정` all become
    `kankijunk`) and no more, so `kang` still cannot reach `Park` (`pak`), nor `박성철` reach
    `Park Seon-cheol`.
    """
    key = _SILENT_R.sub("", "".join(c for c in latin.casefold() if "a" <= c <= "z"))
    for written, sound in _SAME_SOUND:
        key = key.replace(written, sound)
    return _DOUBLED.sub(r"\1", key)


@cache
def _romanised_syllable(syllable: str) -> str:
    """One Hangul syllable in the Revised Romanization (11,172 syllables at most, so cached).

    koroman (MIT, maintained) is imported here, on the first Hangul name, not at start-up.
    Syllable by syllable: a personal name keeps each syllable's sound (강기정 is Gang Gijeong, not
    the assimilated reading), and each syllable is a place a query may start.
    """
    from koroman import romanize

    return str(romanize(syllable, use_pronunciation_rules=False))


def _units(word: str) -> list[str]:
    """Latin units of one folded word: its syllables when Hangul, its parts when Latin."""
    units: list[str] = []
    latin = ""
    for char in word:
        if _HANGUL_SYLLABLE.fullmatch(char):
            units.extend(_LATIN_UNITS.split(latin))
            latin = ""
            units.append(_romanised_syllable(char))
        else:
            latin += char
    units.extend(_LATIN_UNITS.split(latin))
    return [u for u in units if u]


@dataclass(frozen=True, slots=True)
class _Sound:
    """A name's sound key and where in it a query may start (each word's or syllable's start)."""

    key: str
    starts: frozenset[int]

    def begins(self, query: str) -> bool:
        return any(self.key.startswith(query, i) for i in self.starts)


def _sound(text: str) -> _Sound:
    key = ""
    starts: set[int] = set()
    for unit in (u for word in _words(text) for u in _units(word)):
        part = sound_key(unit)
        if not part:
            continue
        # A letter doubled across a boundary is one sound, as it is within a word.
        if key.endswith(part[0]):
            starts.add(len(key) - 1)
            key += part[1:]
        else:
            starts.add(len(key))
            key += part
    return _Sound(key, frozenset(starts))


@dataclass(frozen=True, slots=True)
class _Written:
    """Texts as written, folded, each also without its spaces, and where each of its words starts.

    A Latin word of three letters or more may sit anywhere (`russo`, `emila`); a shorter one must
    start a word (`lo`, `su`), or `an` would find Stefano and Kang alike. Hangul may sit anywhere:
    two syllables say much, and Korean writes a name or title as one word (`기정`, `시장`).
    """

    whole: tuple[str, ...]
    starts: tuple[str, ...]

    def has(self, word: str) -> bool:
        if len(word) >= _ANYWHERE or _HANGUL_SYLLABLE.search(word):
            return any(word in text for text in self.whole)
        return any(text.startswith(word) for text in self.starts)


def _written(texts: tuple[str, ...]) -> _Written:
    whole: list[str] = []
    starts: list[str] = []
    for text in texts:
        words = _words(text)
        whole += [fold(text), "".join(words)]
        starts += ["".join(words[i:]) for i in range(len(words))]
    return _Written(tuple(whole), tuple(starts))


@dataclass(frozen=True, slots=True)
class _Index:
    """What a person is found by, worked out once per person."""

    names: _Written
    sounds: tuple[_Sound, ...]
    roles: _Written


# A role's parenthesis is a note ("received the mayor in Seoul"), not the role.
_PARENTHESIS = re.compile(r"\([^)]*\)")


@lru_cache(maxsize=4096)
def _index(names: tuple[str, ...], roles: tuple[str, ...]) -> _Index:
    # Keyed by the texts themselves: people are frozen models, and one person's copies in several
    # visits share an entry.
    return _Index(
        _written(names),
        tuple(_sound(n) for n in names),
        _written(tuple(_PARENTHESIS.sub(" ", r) for r in roles)),
    )


def _index_of(person: Person) -> _Index:
    names = tuple(n.text for n in person.names) + tuple(v.text for v in person.variants)
    return _index(names, (person.role.en, person.role.it, person.role.ko))


def find_people(people: Sequence[Person], query: str) -> list[Person]:
    """People a user means by `query`, by the first tier that finds anyone (see the module)."""
    words = _words(query)
    if sum(len(w) for w in words) < _SHORTEST_QUERY:
        return []
    indexes = [(p, _index_of(p)) for p in people]
    written = [p for p, index in indexes if all(index.names.has(w) for w in words)]
    if written:
        return written
    sounds = [_sound(w).key for w in words]
    if all(sounds):
        heard = [p for p, index in indexes if _heard_in(sounds, index.sounds)]
        if heard:
            return heard
    return [p for p, index in indexes if all(index.roles.has(w) for w in words)]


def _heard_in(sounds: list[str], names: tuple[_Sound, ...]) -> bool:
    return all(any(name.begins(s) for name in names) for s in sounds)
