"""Keep secrets out of every log line, whoever logs them (httpx logs URLs with the bot token)."""

import logging
from collections.abc import Iterable

MASK = "***"


def install_redaction(secrets: Iterable[str | None]) -> None:
    """Wrap the log record factory so every record is masked before any handler sees it.

    A factory, not a filter: filters attach to one logger or handler and miss records from
    loggers and handlers added later (by httpx, PTB or a test's capture).
    """
    values = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)
    if not values:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a wrong argument count or type, or a failing __str__
            # Arguments that do not fit the format: logging reports those without raising into
            # the caller, and so must this factory, which runs inside the logging call.
            message = f"{record.msg!s} % {record.args!r}"
            record.msg, record.args = message, None
        masked = _mask(message, values)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _mask(logging.Formatter().formatException(record.exc_info), values)
        if record.stack_info:
            record.stack_info = _mask(record.stack_info, values)
        return record

    logging.setLogRecordFactory(factory)


def _mask(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text
