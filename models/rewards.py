"""The reward catalog and the vouchers customers (or the shop) turn them into."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.ledger import LedgerEntry
from models.members import Customer
from models.staff import StaffMember, Store


class Reward(Model):
    """Something points buy: a percentage off, an amount off (VND) or a free item.

    ``stock`` counts what is left (None: unlimited) and only goes down by a conditional UPDATE.
    """

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=80)
    kind = fields.CharField(max_length=8)  # "percent" | "amount" | "item"
    value = fields.BigIntField(default=0)  # percent, or VND off (0 for items)
    item_name = fields.CharField(max_length=64, default="")
    cost_points = fields.BigIntField()
    valid_days = fields.IntField()
    min_spend_vnd = fields.BigIntField(null=True)
    stock = fields.IntField(null=True)
    tier_code = fields.CharField(max_length=32, null=True)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "reward"


class Voucher(Model):
    """One voucher. Its QR carries a 128-bit token (only the hash is kept) and its short code is
    for reading aloud when a camera fails. Redemption is one conditional UPDATE on ``status``.

    What it gives is copied from the reward when issued, so editing a reward later never changes
    a voucher already in someone's hands.
    """

    id = fields.BigIntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="vouchers", on_delete=fields.RESTRICT
    )
    customer_id: int
    reward: fields.ForeignKeyNullableRelation[Reward] = fields.ForeignKeyField(
        "models.Reward", related_name="vouchers", null=True, on_delete=fields.SET_NULL
    )
    reward_id: int | None
    reason = fields.CharField(max_length=32)  # "reward", later "birthday", "campaign", ...
    title = fields.CharField(max_length=80)
    kind = fields.CharField(max_length=8)
    value = fields.BigIntField(default=0)
    item_name = fields.CharField(max_length=64, default="")
    min_spend_vnd = fields.BigIntField(null=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    short_code = fields.CharField(max_length=10, unique=True)
    status = fields.CharField(max_length=10, default="issued")
    issued_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    redeemed_at = fields.DatetimeField(null=True)
    redeemed_by: fields.ForeignKeyNullableRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="redemptions", null=True, on_delete=fields.SET_NULL
    )
    redeemed_by_id: int | None
    redeemed_store: fields.ForeignKeyNullableRelation[Store] = fields.ForeignKeyField(
        "models.Store", related_name="redemptions", null=True, on_delete=fields.SET_NULL
    )
    redeemed_store_id: int | None
    spend_entry: fields.ForeignKeyNullableRelation[LedgerEntry] = fields.ForeignKeyField(
        "models.LedgerEntry", related_name="vouchers", null=True, on_delete=fields.RESTRICT
    )
    spend_entry_id: int | None
    idempotency_key = fields.CharField(max_length=128, null=True, unique=True)

    class Meta:
        table = "voucher"
        indexes = (("customer_id", "status"), ("status", "expires_at"))


class RedeemFailure(Model):
    """A wrong short code typed by a cashier, for throttling guesses."""

    id = fields.BigIntField(primary_key=True)
    staff: fields.ForeignKeyRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="redeem_failures", on_delete=fields.CASCADE
    )
    staff_id: int
    at = fields.DatetimeField()

    class Meta:
        table = "redeem_failure"
        indexes = (("staff_id", "at"),)
