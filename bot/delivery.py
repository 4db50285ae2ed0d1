"""What became of one attempt to deliver a message, in words every channel adapter can use.

The outbox sender decides from this alone whether to mark a message sent, wait out a flood
limit, stop writing to a chat, retry later, or record that nobody can know.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from handlers.types import Reply


class Result(StrEnum):
    SENT = "sent"
    #: The platform asked us to slow down (HTTP 429): nothing was delivered.
    THROTTLED = "throttled"
    #: The person blocked the bot or the chat no longer exists.
    UNREACHABLE = "unreachable"
    #: The platform refused this message for good (malformed, too long...).
    REFUSED = "refused"
    #: Certainly not delivered (no connection, a server error answer): safe to try again.
    NOT_SENT = "not_sent"
    #: The request may have arrived (a read timeout): a retry could show it twice.
    UNKNOWN = "unknown"
    #: The platform's rules forbid this message now and no other way is configured (Zalo: the
    #: member's last message is too old and no template is mapped): skipped, with the reason.
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    result: Result
    detail: str = ""
    retry_after: float = 0.0


@dataclass(frozen=True)
class About:
    """What the outbox knows about a message it delivers, for channels whose rules depend on it
    (Zalo: how long ago the member last wrote, and an approved template per message kind)."""

    kind: str
    key: str
    last_seen_at: datetime | None
    phone: str | None = None
    #: The message's facts as text in the reader's language (a template's parameters).
    facts: Mapping[str, str] = field(default_factory=dict)


class Channel(Protocol):
    """A chat app the outbox can write to."""

    name: str

    async def deliver(self, chat_id: str, reply: Reply, about: About | None = None) -> Outcome: ...
