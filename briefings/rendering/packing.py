"""Split a long reply between item boundaries so every piece fits a platform's limit."""

from collections.abc import Callable, Iterator

ELLIPSIS = "…"


def pack(
    items: list[str], limit: int, measure: Callable[[str], int], joiner: str = "\n\n"
) -> list[str]:
    """Greedily join whole items into chunks of at most `limit` (as `measure` counts).

    An item too long on its own is split between lines; a single line too long (no template
    produces one, but data could) is cut short with an ellipsis rather than sent broken.
    """
    chunks: list[str] = []
    current = ""
    for piece in _fitting_pieces(items, limit, measure):
        candidate = f"{current}{joiner}{piece}" if current else piece
        if measure(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks


def _fitting_pieces(items: list[str], limit: int, measure: Callable[[str], int]) -> Iterator[str]:
    for item in items:
        if measure(item) <= limit:
            yield item
            continue
        lines: list[str] = []
        for line in item.split("\n"):
            fitted = line if measure(line) <= limit else _shorten(line, limit, measure)
            if lines and measure("\n".join([*lines, fitted])) > limit:
                yield "\n".join(lines)
                lines = []
            lines.append(fitted)
        if lines:
            yield "\n".join(lines)


def _shorten(line: str, limit: int, measure: Callable[[str], int]) -> str:
    low, high = 0, len(line)
    while low < high:
        mid = (low + high + 1) // 2
        if measure(line[:mid] + ELLIPSIS) <= limit:
            low = mid
        else:
            high = mid - 1
    return line[:low] + ELLIPSIS
