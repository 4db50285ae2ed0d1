"""Every word a user reads, in Vietnamese first and English second.

Catalogs are Fluent (``locales/<lang>/quen.ftl``): Fluent handles plural forms per language and
keeps whole sentences in the translator's hands, which gettext's ``ngettext`` does less well for
Vietnamese (no plural) next to English (two forms). Numbers passed as ``int`` are formatted by
Fluent with the language's separators. Money and dates are formatted here, the Vietnamese way.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

from fluent.runtime import FluentBundle, FluentResource
from fluent.syntax import ast

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
_HERE = Path(__file__).parent


class MissingText(KeyError):
    """A message key is missing from a catalog: a bug, caught by the catalog tests."""


@cache
def _bundle(language: str) -> FluentBundle:
    bundle = FluentBundle([language], use_isolating=False)
    for path in sorted((_HERE / language).glob("*.ftl")):
        bundle.add_resource(FluentResource(path.read_text(encoding="utf-8")))
    return bundle


def supported(language: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Map a chat app's language code (``vi``, ``en-US``, ``fr``) to one we speak."""
    if language:
        base = language.split("-")[0].split("_")[0].lower()
        if base in LANGUAGES:
            return base
    return default


def t(language: str, key: str, **args: object) -> str:
    """The text for ``key`` in ``language``, with ``args`` filled in."""
    bundle = _bundle(supported(language))
    if not bundle.has_message(key):
        raise MissingText(f"{language}:{key}")
    message = bundle.get_message(key)
    if message.value is None:
        raise MissingText(f"{language}:{key} has no value")
    text, errors = bundle.format_pattern(message.value, args)
    if errors:
        raise MissingText(f"{language}:{key}: {errors[0]}")
    return str(text)


class Refusal(Exception):
    """Something was refused, carried as a message key and its facts rather than as text.

    Whoever shows it picks the language (the ``quen`` command speaks ``QUEN_DEFAULT_LANGUAGE``),
    so the code that refuses need not know who reads it. A fact may be a function of the language
    (a list joined with "or", say). ``str()`` is the English text: tracebacks and logs are read
    by developers.
    """

    def __init__(self, key: str, **facts: object) -> None:
        super().__init__(key)
        self.key = key
        self.facts = facts

    def text(self, language: str) -> str:
        """The refusal in ``language``."""
        facts = {
            name: value(language) if callable(value) else value
            for name, value in self.facts.items()
        }
        return t(language, self.key, **facts)

    def __str__(self) -> str:
        return self.text("en")


def message_keys(language: str) -> set[str]:
    """All keys of one catalog (the tests compare the languages)."""
    keys: set[str] = set()
    for path in (_HERE / language).glob("*.ftl"):
        for entry in FluentResource(path.read_text(encoding="utf-8")).body:
            if isinstance(entry, ast.Message):
                keys.add(entry.id.name)
    return keys


def _group_thousands(amount: int, separator: str) -> str:
    sign = "-" if amount < 0 else ""
    return sign + f"{abs(amount):,}".replace(",", separator)


def format_number(amount: int, language: str) -> str:
    """``1.234`` in Vietnamese, ``1,234`` in English."""
    return _group_thousands(amount, "." if supported(language) == "vi" else ",")


def format_vnd(amount: int, language: str = "vi") -> str:
    """Integer VND the way a Vietnamese receipt shows it: ``85.000 ₫``."""
    return f"{format_number(amount, language)} ₫"


def format_date(day: date) -> str:
    """``22/11/2026``: day first, as everywhere in Vietnam (English text included)."""
    return day.strftime("%d/%m/%Y")
