"""Keep secrets out of every log line, whoever logs them (httpx logs URLs with the bot token),
and out of the one line `briefing-bot run` prints when it cannot start."""

import logging
from collections.abc import Iterable

MASK = "***"
# Shorter values would mask ordinary words; no real token or secret is that short.
_MIN_LENGTH = 6

# Every secret this process knows, longest first (a secret that contains another is masked
# whole). Module state on purpose: the log record factory is process-wide, and a secret made
# after start-up (a generated webhook secret) must join the ones from the settings.
_secrets: list[str] = []
# Marks our factory, so adding secrets wraps it once, yet a factory someone restored over it (a
# test's logging capture) gets it back.
_MARK = "_briefings_redaction"


def install_redaction(secrets: Iterable[str | None]) -> None:
    """Mask `secrets` in every log record from now on (and in `mask`); callable again to add
    more, e.g. a secret generated after the settings were read.

    A log record factory, not a filter: filters attach to one logger or handler and miss
    records from loggers and handlers added later (by httpx, PTB or a test's capture).
    """
    known = set(_secrets) | {s for s in secrets if s and len(s) >= _MIN_LENGTH}
    _secrets[:] = sorted(known, key=len, reverse=True)
    previous = logging.getLogRecordFactory()
    if getattr(previous, _MARK, False) or not _secrets:
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a wrong argument count or type, or a failing __str__
            # Arguments that do not fit the format: logging reports those without raising into
            # the caller, and so must this factory, which runs inside the logging call.
            message = f"{record.msg!s} % {record.args!r}"
            record.msg, record.args = message, None
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return record

    setattr(factory, _MARK, True)
    logging.setLogRecordFactory(factory)


def mask(text: str) -> str:
    """`text` with every known secret replaced by `***`."""
    for secret in _secrets:
        text = text.replace(secret, MASK)
    return text
