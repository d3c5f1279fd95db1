"""The bot's own words (headings, hints, errors) in each language, loaded once from labels.yaml."""

from functools import cache
from pathlib import Path

import yaml

from briefings.dossier import Text
from briefings.languages import Lang

_FILE = Path(__file__).with_name("labels.yaml")


@cache
def catalogue() -> dict[str, Text]:
    """Every label, validated: one missing a language fails here, at start-up."""
    raw = yaml.safe_load(_FILE.read_text(encoding="utf-8"))
    return {key: Text.model_validate(value) for key, value in raw.items()}


def label(key: str, lang: Lang, **values: object) -> str:
    text = catalogue()[key](lang)
    return text.format(**values) if values else text
