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
    role = fields.CharField(max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)
    removed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "staff_member"
