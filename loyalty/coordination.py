"""What several ``quen run`` processes on one PostgreSQL database coordinate through it.

The send pace. Telegram counts every message the bot sends, whichever process sent it: about 30
a second overall and one a second to one chat. Each sender therefore reserves its slot in one
row (``send_clock``) with one atomic statement per message, which also moves the chat's own
``next_send_at`` on: no process can take a slot another took, and a chat's messages stay spaced
whichever processes send them. A 429 seen by one process is written to the same row, and every
process's next reservation starts after it. SQLite (one process by design) paces in memory.

Updates taken. Telegram redelivers an update when the answer is slow or fails, and behind a load
balancer the redelivery can land on another process: each update's key is inserted into a table
with a unique index before it is handled, and only the process whose insert wins handles it.
The row is marked done when the handling finished. A redelivery of an update that is taken but
not done is asked to come back later (another process is on it), and after ``TAKEN_FOR`` it is
taken again: the process that had it died or lost the database, and the person still deserves
an answer. Handling twice is safe because every write a handler makes is keyed or conditional
(a purchase by its confirmation's nonce, a redemption by the voucher's state).
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from enum import Enum

from tortoise import connections
from tortoise.exceptions import IntegrityError

from models.coordination import SeenUpdate
from models.zalo import ZaloEvent

#: How long taken updates are remembered (Telegram stops redelivering within hours).
SEEN_FOR = timedelta(days=1)
#: After this, an update taken and not finished is abandoned and may be taken again. It is how
#: long one chat waits after a crash: Telegram holds the chat's next updates back until this one
#: is answered, and asks again every ``bot.web.BUSY_FOR`` seconds meanwhile. Longer than a
#: handling takes (a handler retries the database for 7.5 s, ``models.db.RETRY_PAUSES``, its
#: replies wait out 429s); a handling that outlives it is done twice, which keyed writes allow.
TAKEN_FOR = timedelta(seconds=30)


class Sight(Enum):
    """What a process may do with an update delivered to it."""

    NEW = "new"  #: handle it: this process took it
    HANDLED = "handled"  #: handled before: acknowledge it
    BUSY = "busy"  #: another process is handling it now: ask for it again later


# One statement: lock the chat's row, take the next global slot no earlier than the chat is free
# (nor before a 429's pause ends), and move the chat's next free moment to a little after the
# slot. Returns how many seconds from now the slot begins (negative: it is already due). The
# clock row is created on first use, so an emptied table needs no set-up.
_RESERVE = """
WITH chat AS (
    SELECT next_send_at FROM channel_account WHERE id = $3 FOR UPDATE
), slot AS (
    INSERT INTO send_clock AS c (id, next_at)
    VALUES (1, GREATEST(clock_timestamp(), (SELECT next_send_at FROM chat))
               + make_interval(secs => $1::float8))
    ON CONFLICT (id) DO UPDATE SET next_at = GREATEST(
        c.next_at, clock_timestamp(), c.paused_until, (SELECT next_send_at FROM chat)
    ) + make_interval(secs => $1::float8)
    RETURNING c.next_at - make_interval(secs => $1::float8) AS at
), chat_moved AS (
    UPDATE channel_account
    SET next_send_at = (SELECT at FROM slot) + make_interval(secs => $2::float8)
    WHERE id = $3
)
SELECT EXTRACT(EPOCH FROM ((SELECT at FROM slot) - clock_timestamp()))::float8 AS wait
"""

_PAUSE = """
INSERT INTO send_clock AS c (id, next_at, paused_until)
VALUES (1, clock_timestamp(), clock_timestamp() + make_interval(secs => $1::float8))
ON CONFLICT (id) DO UPDATE SET paused_until = GREATEST(
    c.paused_until, clock_timestamp() + make_interval(secs => $1::float8)
)
"""

_PAUSED = "SELECT COALESCE(MAX(paused_until) > clock_timestamp(), FALSE) AS paused FROM send_clock"


async def reserve_send(account_id: int, interval: float, per_chat: float) -> float:
    """Reserve the next send slot for a message to ``account_id``; returns the seconds to wait
    before sending (0 if due). Slots are ``interval`` apart for the whole bot and ``per_chat``
    apart for one chat, counted on the database's clock, so the processes' clocks do not matter.

    A busy chat pushes the bot's next slot to when the chat is free, wasting the slots in between:
    senders do not claim messages for chats they wrote to a moment ago, so this is the rare case
    of two processes holding messages for one chat at once."""
    rows = await connections.get("default").execute_query_dict(
        _RESERVE, [interval, per_chat, account_id]
    )
    return max(0.0, float(rows[0]["wait"]))


async def pause_sends(seconds: float) -> None:
    """A 429: no process reserves a slot before ``seconds`` from now."""
    await connections.get("default").execute_query(_PAUSE, [seconds])


async def sends_paused() -> bool:
    """Whether a 429 pause is running: a slot reserved before it began must not be used."""
    rows = await connections.get("default").execute_query_dict(_PAUSED)
    return bool(rows[0]["paused"])


async def take_update(key: str, at: datetime) -> Sight:
    """Take update ``key`` for handling, unless some process took it already (see the module)."""
    with contextlib.suppress(IntegrityError):  # taken before: see how far it got
        await SeenUpdate.create(key=key[:64], seen_at=at)
        return Sight.NEW
    abandoned = SeenUpdate.filter(key=key[:64], done_at__isnull=True, seen_at__lt=at - TAKEN_FOR)
    if await abandoned.update(seen_at=at):
        return Sight.NEW
    if await SeenUpdate.filter(key=key[:64], done_at__isnull=False).exists():
        return Sight.HANDLED
    return Sight.BUSY


async def finish_update(key: str, at: datetime) -> None:
    """The handling of ``key`` is over: redeliveries are acknowledged from now on."""
    await SeenUpdate.filter(key=key[:64]).update(done_at=at)


async def give_back_update(key: str) -> None:
    """The handling of ``key`` failed and Telegram will deliver it again: let any process take
    it at once rather than after ``TAKEN_FOR``."""
    await SeenUpdate.filter(key=key[:64], done_at__isnull=True).delete()


async def forget_seen(before: datetime) -> int:
    """Drop the record of chat-app updates taken before ``before``, Telegram's here and Zalo's
    in ``zalo_event`` (kept as long: a redelivery a day late is not expected from either);
    returns how many."""
    telegram = await SeenUpdate.filter(seen_at__lt=before).delete()
    zalo = await ZaloEvent.filter(received_at__lt=before).delete()
    return telegram + zalo
