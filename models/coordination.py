"""What several ``quen run`` processes on one PostgreSQL database agree on through it: the pace
of sends and which chat-app updates were already taken."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class SendClock(Model):
    """The one row every sender reserves its send slots from (PostgreSQL only).

    ``next_at`` is the first free slot for the whole bot, ``paused_until`` the end of the last
    pause a 429 asked for: one process seeing a 429 holds back all of them. SQLite paces in
    memory (one process by design) and leaves this table empty.
    """

    id = fields.SmallIntField(primary_key=True)
    next_at = fields.DatetimeField()
    paused_until = fields.DatetimeField(null=True)

    class Meta:
        table = "send_clock"


class SeenUpdate(Model):
    """A chat-app update (``telegram:<update_id>``) some process took, so a redelivery landing
    on another process is not handled again. ``done_at`` stays empty until the handling
    finished: an update taken and never finished (its process died, or lost the database) may
    be taken again after a while. Kept a day: Telegram gives up redelivering before that."""

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=64, unique=True)
    seen_at = fields.DatetimeField()
    done_at = fields.DatetimeField(null=True)

    class Meta:
        table = "seen_update"
        indexes = (("seen_at",),)
