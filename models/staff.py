"""Stores and the people who work in them."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.members import ChannelAccount


class Store(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=128)
    address = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "store"


class StaffMember(Model):
    """A chat account with a role (owner, manager, cashier), optionally tied to one store.

    Removal sets ``removed_at`` and the role is checked on every message, so access ends at once.
    """

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[ChannelAccount] = fields.ForeignKeyField(
        "models.ChannelAccount", related_name="staff_roles", on_delete=fields.CASCADE
    )
    store: fields.ForeignKeyNullableRelation[Store] = fields.ForeignKeyField(
        "models.Store", related_name="staff", null=True, on_delete=fields.SET_NULL
    )
    account_id: int
    store_id: int | None
    role = fields.CharField(max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)
    removed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "staff_member"
        indexes = (("account_id",),)


class StaffInvite(Model):
    """A one-time link that makes whoever opens it a cashier or manager. Only the SHA-256 of its
    token is stored, and ``used_at`` is set by a conditional UPDATE, so it works exactly once."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    role = fields.CharField(max_length=16)
    store: fields.ForeignKeyNullableRelation[Store] = fields.ForeignKeyField(
        "models.Store", related_name="invites", null=True, on_delete=fields.SET_NULL
    )
    store_id: int | None
    created_by: fields.ForeignKeyRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="invites_sent", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    used_by: fields.ForeignKeyNullableRelation[ChannelAccount] = fields.ForeignKeyField(
        "models.ChannelAccount", related_name="invites_used", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "staff_invite"


class ProgramRules(Model):
    """The rules owners edit in chat. One row (id 1): changes apply from now on, never backwards.

    Money is integer VND: ``earn_vnd_per_point`` = 1000 means one point per 1.000 ₫ spent.
    """

    id = fields.IntField(primary_key=True)
    earn_vnd_per_point = fields.IntField(default=1000)
    points_lifetime_days = fields.IntField(default=365)
    max_purchase_vnd = fields.BigIntField(default=5_000_000)
    daily_purchases_alert = fields.IntField(default=3)
    undo_minutes = fields.IntField(default=15)
    referral_points_referrer = fields.IntField(default=200, db_default=200)
    referral_points_friend = fields.IntField(default=200, db_default=200)
    # What the scheduler gives: a catalog reward copied into a free voucher (None: no offer).
    # Plain ids, not foreign keys: a reward removed later is noticed and skipped by the job.
    birthday_reward_id = fields.IntField(null=True)
    birthday_days_ahead = fields.IntField(default=3, db_default=3)
    winback_reward_id = fields.IntField(null=True)
    winback_days = fields.IntField(default=21, db_default=21)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "program_rules"
