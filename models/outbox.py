"""Messages the bot decided to send, written in the transaction that caused them."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.members import ChannelAccount, Customer


class OutboxMessage(Model):
    """One message to one chat account, sent by the outbox sender.

    ``dedupe_key`` names the event (``earned:purchase-41``, ``birthday:2026:42``): writing the same
    key for the same account twice keeps the first row, so the message goes out once. ``payload``
    holds message keys and facts, not text: it is rendered in the reader's language when sent.
    ``status`` moves queued -> claimed -> sending -> sent, or ends failed, unknown (the outcome of
    a send could not be known, and marketing is never retried) or skipped (with ``reason``).
    """

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyNullableRelation[ChannelAccount] = fields.ForeignKeyField(
        "models.ChannelAccount", related_name="outbox", null=True, on_delete=fields.SET_NULL
    )
    account_id: int | None
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="outbox", null=True, on_delete=fields.SET_NULL
    )
    customer_id: int | None
    kind = fields.CharField(max_length=32)
    marketing = fields.BooleanField(default=False)
    dedupe_key = fields.CharField(max_length=128)
    payload: dict = fields.JSONField(default=dict)
    status = fields.CharField(max_length=10, default="queued")
    reason = fields.CharField(max_length=255, default="")
    attempts = fields.SmallIntField(default=0)
    created_at = fields.DatetimeField()
    not_before = fields.DatetimeField()
    expires_at = fields.DatetimeField(null=True)
    claimed_by = fields.CharField(max_length=40, null=True)
    lease_until = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_message"
        unique_together = (("account_id", "dedupe_key"),)
        indexes = (("status", "not_before"), ("customer_id", "marketing", "sent_at"))
