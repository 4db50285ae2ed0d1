"""Customers, their chat accounts, consent evidence and conversation state."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Customer(Model):
    """A member of the loyalty program: one person, whatever apps they use.

    ``points_balance`` is a cache of the ledger's sum. It only ever changes in the same transaction
    as a ledger row, through a conditional ``UPDATE`` (see ``loyalty.ledger``).
    """

    id = fields.BigIntField(primary_key=True)
    display_name = fields.CharField(max_length=128, default="")
    language = fields.CharField(max_length=2, default="vi")
    phone = fields.CharField(max_length=16, null=True, unique=True)
    birthday_day = fields.SmallIntField(null=True)
    birthday_month = fields.SmallIntField(null=True)
    birthday_year = fields.SmallIntField(null=True)
    tier_code = fields.CharField(max_length=32, default="member")
    points_balance = fields.BigIntField(default=0)
    marketing_consent = fields.BooleanField(default=False)
    joined_at = fields.DatetimeField(auto_now_add=True)
    deleted_at = fields.DatetimeField(null=True)
    referral_code = fields.CharField(max_length=16, null=True, unique=True)
    referred_by: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="referrals", null=True, on_delete=fields.SET_NULL
    )
    referred_by_id: int | None
    referral_rewarded_at = fields.DatetimeField(null=True)
    # The till's own customer id, for members that came in with an imported purchase history.
    pos_ref = fields.CharField(max_length=64, null=True, unique=True)

    class Meta:
        table = "customer"


class MemberCard(Model):
    """One issued member QR card. Only the SHA-256 of its 128-bit random token is kept.

    Each ``/card`` issues a fresh token, so a card can be re-drawn without storing a raw token,
    while the few most recent cards stay valid (a customer may show an older image from the chat).
    """

    id = fields.BigIntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="cards", on_delete=fields.CASCADE
    )
    customer_id: int
    token_hash = fields.CharField(max_length=64, unique=True)
    issued_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "member_card"
        indexes = (("customer_id", "issued_at"),)


class ChannelAccount(Model):
    """Who is talking, on which app. Ids are text: Telegram's exceed 2^31, Zalo's are strings."""

    id = fields.BigIntField(primary_key=True)
    channel = fields.CharField(max_length=16)
    external_id = fields.CharField(max_length=64)
    chat_id = fields.CharField(max_length=64)
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="accounts", null=True, on_delete=fields.SET_NULL
    )
    customer_id: int | None
    language = fields.CharField(max_length=2, null=True)
    display_name = fields.CharField(max_length=128, default="")
    username = fields.CharField(max_length=64, null=True)
    unreachable_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField(null=True)
    #: The earliest moment the next proactive message may leave for this chat, on PostgreSQL
    #: where several senders share the chat's one-a-second limit (``loyalty.coordination``).
    next_send_at = fields.DatetimeField(null=True)

    class Meta:
        table = "channel_account"
        unique_together = (("channel", "external_id"),)
        indexes = (("customer_id",),)


class ConsentRecord(Model):
    """Evidence of each consent given or withdrawn (Law 91/2025): what, which wording, when."""

    id = fields.BigIntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="consents", on_delete=fields.CASCADE
    )
    purpose = fields.CharField(max_length=16)  # "membership" | "marketing"
    granted = fields.BooleanField()
    wording_version = fields.CharField(max_length=32)
    language = fields.CharField(max_length=2)
    channel = fields.CharField(max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "consent_record"
        indexes = (("customer_id",),)


class Conversation(Model):
    """Where a multi-step flow stands for one chat account, so a restart or a second process
    continues it. ``nonce`` changes with every new flow and buttons carry it, so stale ones are
    refused.
    """

    id = fields.BigIntField(primary_key=True)
    account: fields.OneToOneRelation[ChannelAccount] = fields.OneToOneField(
        "models.ChannelAccount", related_name="conversation", on_delete=fields.CASCADE
    )
    flow = fields.CharField(max_length=32, null=True)
    step = fields.CharField(max_length=32, null=True)
    nonce = fields.CharField(max_length=8, default="")
    data: dict = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "conversation"
