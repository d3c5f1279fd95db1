"""The three languages every user-visible text exists in."""

from typing import Final, Literal, TypeGuard, get_args

Lang = Literal["en", "it", "ko"]
LANGS: Final[tuple[Lang, ...]] = get_args(Lang)
DEFAULT_LANG: Final[Lang] = "en"


def is_lang(value: object) -> TypeGuard[Lang]:
    return value in LANGS


def lang_or_default(value: str | None, default: Lang = DEFAULT_LANG) -> Lang:
    """Map a platform's locale tag (`it`, `it-IT`, `ko_KR`, `en-US`) onto one of ours."""
    if not value:
        return default
    head = value.replace("_", "-").split("-", 1)[0].lower()
    return head if is_lang(head) else default
