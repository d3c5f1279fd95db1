"""The bot's own words (headings, hints, errors) in each language, loaded once from labels.yaml.

A label that mentions a command writes it `{/help}`: how it is spelled (`/help`, or
`/briefing help` under Slack's one slash command) is the dialect's to say, at render time.
"""

from collections.abc import Callable
from pathlib import Path

from briefings.dossier import Text
from briefings.languages import Lang

_FILE = Path(__file__).with_name("labels.yaml")
Spelling = Callable[[str], str]


_catalogue: dict[str, Text] | None = None


def catalogue() -> dict[str, Text]:
    """Every label, validated: one missing a language fails here, at start-up."""
    global _catalogue  # noqa: PLW0603 - loaded once per process, as the seeds are
    if _catalogue is None:
        _catalogue = load_catalogue()
    return _catalogue


def load_catalogue() -> dict[str, Text]:
    """Read and validate labels.yaml (the seeds cache keeps the result between runs)."""
    import yaml

    try:
        from yaml import CSafeLoader as Loader
    except ImportError:  # pragma: no cover - depends on how PyYAML was built
        from yaml import SafeLoader as Loader  # type: ignore[assignment]
    # libyaml's loader: the pure-Python one took 80 ms of every console start on this file.
    raw = yaml.load(_FILE.read_text(encoding="utf-8"), Loader=Loader)
    return {key: Text.model_validate(value) for key, value in raw.items()}


def adopt(validated: dict[str, Text]) -> None:
    """Use a catalogue validated by an earlier run of this very labels file (the seeds cache)."""
    global _catalogue  # noqa: PLW0603 - see catalogue()
    _catalogue = validated


class _Values(dict[str, object]):
    def __init__(self, values: dict[str, object], spell: Spelling | None) -> None:
        super().__init__(values)
        self._spell = spell

    def __missing__(self, key: str) -> object:
        if key.startswith("/") and self._spell is not None:
            return self._spell(key[1:])
        raise KeyError(key)


def label(key: str, lang: Lang, spell: Spelling | None = None, **values: object) -> str:
    """The label in `lang`, filled in; a command it mentions needs `spell`, or it fails."""
    return catalogue()[key](lang).format_map(_Values(values, spell))
