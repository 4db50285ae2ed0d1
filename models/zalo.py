"""What the Zalo Official Account channel keeps: its OAuth tokens, the webhook events already
seen, and image uploads still usable."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ZaloToken(Model):
    """The OA's current OAuth v4 token pair, one row per Zalo app.

    Zalo's refresh token works once: every refresh returns a new pair and spends the old one. So
    the pair lives here, where every process sees the same one, and ``version`` goes up with each
    refresh. A process refreshes only after claiming the row (``refreshing_by`` and
    ``refreshing_until``, set by a conditional UPDATE on ``version``), so two processes never
    spend the same refresh token. ``failure`` says why the last refresh failed, until a person
    re-authorises.
    """

    id = fields.BigIntField(primary_key=True)
    app_id = fields.CharField(max_length=32, unique=True)
    access_token = fields.TextField(default="")
    refresh_token = fields.TextField()
    access_expires_at = fields.DatetimeField(null=True)
    version = fields.IntField(default=0)
    refreshing_by = fields.CharField(max_length=40, null=True)
    refreshing_until = fields.DatetimeField(null=True)
    failure = fields.CharField(max_length=255, null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "zalo_token"


class ZaloEvent(Model):
    """A webhook event already accepted. Zalo redelivers when it misses our 200, so each event's
    key (``msg_id``, or the event, user and timestamp for events without one) is stored once,
    and a redelivery, even after a restart, is recognised by the unique index."""

    id = fields.BigIntField(primary_key=True)
    event_key = fields.CharField(max_length=128, unique=True)
    event_name = fields.CharField(max_length=40)
    received_at = fields.DatetimeField()

    class Meta:
        table = "zalo_event"
        indexes = (("received_at",),)


class ZaloUpload(Model):
    """An image uploaded to Zalo, by the SHA-256 of its bytes. Zalo keeps an ``attachment_id``
    for 7 days: a card or chart sent again within that time is not uploaded again."""

    id = fields.BigIntField(primary_key=True)
    sha256 = fields.CharField(max_length=64, unique=True)
    attachment_id = fields.CharField(max_length=255)
    uploaded_at = fields.DatetimeField()

    class Meta:
        table = "zalo_upload"
