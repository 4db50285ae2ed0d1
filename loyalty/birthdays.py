"""Birthdays as customers type them: ``dd/mm`` or ``dd/mm/yyyy`` (also with ``-`` or ``.``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_PATTERN = re.compile(r"^\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{4}))?\s*$")
OLDEST_AGE = 110
_LEAP_YEAR = 2000


class BadBirthday(ValueError):
    """Not a date we can accept. ``reason`` picks the polite message: ``format`` or ``date``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Birthday:
    day: int
    month: int
    year: int | None = None

    def show(self) -> str:
        base = f"{self.day:02d}/{self.month:02d}"
        return f"{base}/{self.year}" if self.year else base


def parse_birthday(text: str, today: date) -> Birthday:
    """Read a birthday, refusing impossible dates (``31/02``), future ones and ages over 110.

    Without a year, 29/02 is accepted (the offer goes out on 28/02 in other years).
    """
    match = _PATTERN.match(text)
    if not match:
        raise BadBirthday("format")
    day, month = int(match[1]), int(match[2])
    year = int(match[3]) if match[3] else None
    try:
        born = date(year or _LEAP_YEAR, month, day)
    except ValueError:
        raise BadBirthday("date") from None
    if year is not None and not (today.year - OLDEST_AGE <= year and born <= today):
        raise BadBirthday("date")
    return Birthday(day=day, month=month, year=year)
