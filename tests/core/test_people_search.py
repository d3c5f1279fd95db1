"""Finding people by what users type: names as written or as they sound, in either script."""

import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from briefings.dossier import NameVariant, Person, Text
from briefings.folding import fold
from briefings.loader import Seeds
from briefings.people_search import find_people, sound_key
from briefings.rendering.renderer import Renderer

from ..conftest import DURING, august
from .talk import outcome, plain

EMILIA = NameVariant(
    text="Emilia Gatto",
    note=Text(
        en="probably “Emilia”; the article writes “Emila”",
        it="probabilmente “Emilia”; l'articolo scrive “Emila”",
        ko="‘Emilia’의 오기로 보임. 기사 표기는 ‘Emila’",
    ),
)


@pytest.fixture(scope="module")
def people(seeds: Seeds) -> tuple[Person, ...]:
    """The August visit's people, the ambassador with the variant the seeds are about to carry."""
    return tuple(
        p.model_copy(update={"variants": (EMILIA,)}) if p.id == "gatto" else p
        for p in august(seeds).people
    )


FOUND = [
    # (what the user types, the ids found, in the dossier's order)
    # Names as written, spaces aside.
    ("Lo Russo", ["lo-russo"]),
    ("lorusso", ["lo-russo"]),
    ("로 루쏘", ["lo-russo"]),
    ("KANG", ["kang"]),
    ("강기정", ["kang"]),
    ("기정", ["kang"]),
    ("park seon cheol", ["park-seon-cheol"]),
    ("emila", ["gatto"]),
    # A variant: the likely correction of the article's spelling.
    ("emilia", ["gatto"]),
    # As they sound: 쏘 heard as 소, the 로 left out; romanisations both ways.
    ("루소", ["lo-russo"]),
    ("로루소", ["lo-russo"]),
    ("kang gi-jung", ["kang"]),
    ("gang gijeong", ["kang"]),
    ("Gijeong Gang", ["kang"]),
    ("sin su jeong", ["shin-su-jeong"]),
    ("bak", ["park-seon-cheol"]),
    # Found by the sound of his Latin name; the reply still shows no Hangul name (below).
    ("박선철", ["park-seon-cheol"]),
    # Roles, when no name matches; a role's parenthesis is a note, not the role.
    ("sindaco", ["lo-russo", "kang"]),
    ("ambassador", ["gatto", "park-seon-cheol"]),
    ("대사", ["gatto", "park-seon-cheol"]),
    # Never too loose.
    ("kang", ["kang"]),
    ("k", []),
    ("강", []),
    ("", []),
    ("  - ", []),
    ("an", []),
    ("홍길동", []),
    ("박성철", []),
    ("kim", []),
    ("seoul", []),
    ("nobody", []),
]


@pytest.mark.parametrize(("query", "ids"), FOUND, ids=[q or "empty" for q, _ in FOUND])
def test_find_people(people: tuple[Person, ...], query: str, ids: list[str]) -> None:
    assert [p.id for p in find_people(people, query)] == ids


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Kang Gijung", "gang gijeong"),
        ("Park", "Bak"),
        ("Shin", "sin"),
        ("Chul-soo", "cheolsu"),
        ("Russo", "ruso"),
    ],
)
def test_romanisations_of_one_sound_share_a_key(one: str, other: str) -> None:
    assert sound_key(one) == sound_key(other)


@pytest.mark.parametrize(("one", "other"), [("kang", "park"), ("seong", "seon"), ("kim", "gin")])
def test_different_sounds_keep_different_keys(one: str, other: str) -> None:
    assert sound_key(one) != sound_key(other)


WHO = [
    # (the user's language, what they type, what the reply must contain, what it must not)
    ("en", "/who 루소", ["Stefano Lo Russo", "Mayor of Turin"], ["Kang Gijung /"]),
    ("ko", "/who lorusso", ["스테파노 로 루쏘", "토리노 시장"], []),
    ("en", "/who kang gi-jung", ["Kang Gijung / 강기정", "Mayor of Gwangju"], ["Lo Russo /"]),
    ("it", "/who gang gijeong", ["Kang Gijung", "sindaco di Gwangju"], []),
    ("en", "/who 박선철", ["Park Seon-cheol", "no Hangul spelling in the sources"], ["박선철"]),
    ("en", "/who 홍길동", ["No one called “홍길동”"], []),
    ("en", "/who k", ["No one called “k”"], []),
]


@pytest.mark.parametrize(("lang", "text", "contains", "lacks"), WHO, ids=[t for _, t, _, _ in WHO])
def test_who_through_the_command_table(
    library, renderer: Renderer, lang, text, contains: list[str], lacks: list[str]
) -> None:
    reply = plain(renderer, outcome(library, text, lang, DURING))
    for expected in contains:
        assert expected in reply
    for unexpected in lacks:
        assert unexpected not in reply


_HANGUL = st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3)


@settings(max_examples=300, deadline=None)
@given(st.text() | st.text(alphabet=_HANGUL | st.sampled_from("kang gi-jeong ㄱㅏ\u1100\u1161")))
def test_no_query_raises_and_one_letter_finds_nobody(
    people: tuple[Person, ...], query: str
) -> None:
    found = find_people(people, query)
    assert all(p in people for p in found)
    if len("".join(re.split(r"[\W_]+", fold(query)))) < 2:
        assert found == []


def test_the_romanisation_library_is_imported_only_when_used() -> None:
    """The console's cold start does not pay for koroman: only a Hangul name comparison does."""
    code = "import sys, briefings.commands; assert 'koroman' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
