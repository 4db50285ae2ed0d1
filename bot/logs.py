"""Logging set up once for every ``quen`` command: today's text lines, or JSON for a collector.

``QUEN_LOG_FORMAT=json`` writes one JSON object a line on stderr, with ``ts`` (ISO-8601, UTC),
``level``, ``logger`` and ``message``, plus whatever identifies the work being done: the POS
API's ``request_id``, the chat ``update`` being handled, the ``outbox_id`` being sent, a
scheduled ``job`` (from ``extra=``), and ``exc_info`` with the traceback. A collector can then
find every line of one request or one message without parsing free text.

Known secrets (the bot token, webhook and API secrets) are replaced in every line, whatever the
format: httpx, which logs Telegram URLs with the token in them, is also kept at WARNING.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType

from bot.api import current_request_id, install_log_context
from bot.settings import LogFormat

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(request)s: %(message)s"
REDACTED = "[secret]"
#: Loggers that would write secrets (httpx: Telegram URLs carry the token) or noise at INFO.
QUIET = ("httpx", "httpcore", "apscheduler.executors.default")

#: Fields about the work in progress, added to every JSON line written while it lasts.
log_fields: ContextVar[Mapping[str, object]] = ContextVar(
    "quen_log_fields", default=MappingProxyType({})
)

#: What every ``LogRecord`` has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime", "request"}
)


@contextmanager
def logging_fields(**fields: object) -> Iterator[None]:
    """Add ``fields`` to the JSON lines logged inside the block (in this task and the tasks it
    starts)."""
    token = log_fields.set({**log_fields.get(), **fields})
    try:
        yield
    finally:
        log_fields.reset(token)


def annotate(**fields: object) -> None:
    """Add ``fields`` for the rest of the current task: for a task of its own (one outbox send),
    whose context ends with it, so nothing needs resetting."""
    log_fields.set({**log_fields.get(), **fields})


class JsonFormatter(logging.Formatter):
    """One JSON object a line; values that JSON cannot carry are written as ``str()``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id.get()
        if request_id:
            line["request_id"] = request_id
        line.update(log_fields.get())
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class Redacting(logging.Formatter):
    """Wraps a formatter and replaces each known secret in its output."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text


def setup_logging(level: str, fmt: LogFormat, secrets: Iterable[str] = ()) -> None:
    """Configure the root logger once, on stderr."""
    install_log_context()  # ``%(request)s``: the POS API's request id, on that request's lines
    inner = JsonFormatter() if fmt is LogFormat.JSON else logging.Formatter(TEXT_FORMAT)
    handler = logging.StreamHandler()
    handler.setFormatter(Redacting(inner, secrets))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    for noisy in QUIET:
        logging.getLogger(noisy).setLevel(logging.WARNING)
