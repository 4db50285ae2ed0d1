"""What became of one attempt to deliver a message, in words every channel adapter can use.

The outbox sender decides from this alone whether to mark a message sent, wait out a flood
limit, stop writing to a chat, retry later, or record that nobody can know.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Outcome:
    result: Result
    detail: str = ""
    retry_after: float = 0.0


class Channel(Protocol):
    """A chat app the outbox can write to."""

    name: str

    async def deliver(self, chat_id: str, reply: Reply) -> Outcome: ...
