"""Purchases recorded at the till: what was paid, the points it earned, and any undo."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.ledger import LedgerEntry
from models.members import Customer
from models.staff import StaffMember, Store


class Purchase(Model):
    """One bill. ``idempotency_key`` is unique, so a double tap or a retried request records it
    once. A voided purchase keeps its row: the undo is a reversing ledger entry."""

    id = fields.BigIntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="purchases", on_delete=fields.RESTRICT
    )
    customer_id: int
    store: fields.ForeignKeyNullableRelation[Store] = fields.ForeignKeyField(
        "models.Store", related_name="purchases", null=True, on_delete=fields.SET_NULL
    )
    store_id: int | None
    cashier: fields.ForeignKeyNullableRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="purchases", null=True, on_delete=fields.SET_NULL
    )
    cashier_id: int | None
    amount_vnd = fields.BigIntField()
    points = fields.BigIntField()
    items: list = fields.JSONField(default=list)
    idempotency_key = fields.CharField(max_length=128, unique=True)
    earn_entry: fields.ForeignKeyNullableRelation[LedgerEntry] = fields.ForeignKeyField(
        "models.LedgerEntry", related_name="purchase", null=True, on_delete=fields.RESTRICT
    )
    earn_entry_id: int | None
    created_at = fields.DatetimeField()
    voided_at = fields.DatetimeField(null=True)
    # "till" (recorded in chat), "import" (history from a till export, no points), "api" (a POS).
    source = fields.CharField(max_length=8, default="till", db_default="till")
    receipt_id = fields.CharField(max_length=64, null=True)  # the POS's own receipt number

    class Meta:
        table = "purchase"
        indexes = (("customer_id", "created_at"), ("cashier_id", "created_at"))


class MenuItem(Model):
    """A dish or drink a cashier can tick on a bill (feeds later personalisation). Kept short by
    the owner with ``/menu``; removing one hides it without touching past purchases."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "menu_item"
