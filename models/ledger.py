"""The points ledger (append-only), the expiring lots it fills, and the tier table."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.members import Customer


class LedgerEntry(Model):
    """One movement of points. Rows are only ever inserted: corrections are new, reversing rows."""

    id = fields.BigIntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="ledger", on_delete=fields.RESTRICT
    )
    customer_id: int
    kind = fields.CharField(max_length=16)
    points = fields.BigIntField()
    balance_after = fields.BigIntField()
    idempotency_key = fields.CharField(max_length=128, null=True, unique=True)
    note = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField()

    class Meta:
        table = "ledger_entry"
        indexes = (("customer_id", "created_at"),)


class PointsLot(Model):
    """Points earned together, expiring together. Spending draws from the oldest lots first."""

    id = fields.BigIntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="lots", on_delete=fields.RESTRICT
    )
    customer_id: int
    entry: fields.ForeignKeyRelation[LedgerEntry] = fields.ForeignKeyField(
        "models.LedgerEntry", related_name="lots", on_delete=fields.RESTRICT
    )
    points = fields.BigIntField()
    remaining = fields.BigIntField()
    earned_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()

    class Meta:
        table = "points_lot"
        indexes = (("customer_id", "expires_at"), ("entry_id",))


class LotDraw(Model):
    """How many points one spending or expiry entry took from one lot (so it can be undone)."""

    id = fields.BigIntField(primary_key=True)
    entry: fields.ForeignKeyRelation[LedgerEntry] = fields.ForeignKeyField(
        "models.LedgerEntry", related_name="draws", on_delete=fields.RESTRICT
    )
    lot: fields.ForeignKeyRelation[PointsLot] = fields.ForeignKeyField(
        "models.PointsLot", related_name="draws", on_delete=fields.RESTRICT
    )
    points = fields.BigIntField()

    class Meta:
        table = "lot_draw"


class Tier(Model):
    """A membership level. Reached by points earned in the last 12 months, never by balance.

    ``multiplier_pct`` is an integer percentage (150 = x1.5) so earning stays integer arithmetic.
    """

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name_vi = fields.CharField(max_length=64)
    name_en = fields.CharField(max_length=64)
    threshold = fields.BigIntField()
    multiplier_pct = fields.IntField(default=100)

    class Meta:
        table = "tier"
