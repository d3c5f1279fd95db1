"""One way of folding what people type before comparing it: case, width and accents aside."""

import unicodedata


def fold(text: str) -> str:
    """`Lo Russo`, `lo russo` and `ＬＯ ＲＵＳＳＯ` compare equal, as do `martedì` and `martedi`.

    Hangul survives: decomposed syllables are letters, not marks, and compose again.
    """
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text).casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare)
