"""The JSON log format's fields, and secrets replaced in every line (``tests/test_shutdown.py``
reads a real process's JSON log)."""

from __future__ import annotations

import json
import logging
import sys

from bot.api import current_request_id
from bot.cli import _setup_logging
from bot.logs import REDACTED, JsonFormatter, Redacting, logging_fields
from bot.settings import LogFormat, load_settings


def record(message: str, **extra: object) -> logging.LogRecord:
    return logging.getLogger("quen.test").makeRecord(
        "quen.test", logging.WARNING, __file__, 1, message, None, None, extra=extra
    )


def test_a_json_line_carries_the_request_the_work_and_the_extras() -> None:
    token = current_request_id.set("till-7:abc")
    try:
        with logging_fields(update="telegram:42"):
            line = json.loads(JsonFormatter().format(record("hello %s", job="analyze")))
    finally:
        current_request_id.reset(token)
    assert line["ts"].endswith("+00:00") and line["level"] == "WARNING"
    assert (line["logger"], line["message"]) == ("quen.test", "hello %s")
    assert (line["request_id"], line["update"], line["job"]) == (
        "till-7:abc",
        "telegram:42",
        "analyze",
    )


def test_a_traceback_stays_inside_its_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        failed = record("failed")
        failed.exc_info = sys.exc_info()
    text = JsonFormatter().format(failed)
    assert "\n" not in text and "ValueError: boom" in json.loads(text)["exc_info"]


def test_secrets_are_replaced_in_both_formats() -> None:
    secret = "123456:ABC-token"
    for inner in (JsonFormatter(), logging.Formatter("%(message)s")):
        text = Redacting(inner, [secret, ""]).format(record(f"GET /bot{secret}/getMe"))
        assert secret not in text and REDACTED in text


def test_the_database_password_is_among_the_secrets() -> None:
    settings = load_settings(
        database_url="postgres://quen:pa55word@db:5432/quen", log_format=LogFormat.JSON
    )
    root = logging.getLogger()
    kept = root.handlers[:]
    root.handlers.clear()
    try:
        _setup_logging(settings)
        formatter = root.handlers[0].formatter
        assert isinstance(formatter, Redacting) and "pa55word" in formatter.secrets
    finally:
        root.handlers[:] = kept
