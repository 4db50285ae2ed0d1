"""The POS REST API: per-store keys and the answers kept for idempotent retries."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.staff import StaffMember, Store


class ApiKey(Model):
    """A till system's key for one store. Only the SHA-256 of the 256-bit secret is kept, and the
    key acts through its own staff row (role ``pos``), so purchases, redemptions and the audit log
    name the key like they name a cashier. Revoking sets ``revoked_at`` and removes that row."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, default="")
    prefix = fields.CharField(max_length=24)
    key_hash = fields.CharField(max_length=64, unique=True)
    store: fields.ForeignKeyRelation[Store] = fields.ForeignKeyField(
        "models.Store", related_name="api_keys", on_delete=fields.RESTRICT
    )
    store_id: int
    staff: fields.ForeignKeyRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="api_keys", on_delete=fields.RESTRICT
    )
    staff_id: int
    created_by_account_id = fields.BigIntField(null=True)
    created_at = fields.DatetimeField()
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"
        indexes = (("store_id",), ("staff_id",))


class ApiIdempotency(Model):
    """One ``Idempotency-Key`` of one store: the request's fingerprint and, once it succeeded, the
    answer given, so a retry gets the same status and body. ``status_code`` is null while the
    first request is still being handled."""

    id = fields.BigIntField(primary_key=True)
    store: fields.ForeignKeyRelation[Store] = fields.ForeignKeyField(
        "models.Store", related_name="api_requests", on_delete=fields.CASCADE
    )
    store_id: int
    key = fields.CharField(max_length=100)
    operation = fields.CharField(max_length=32)
    request_hash = fields.CharField(max_length=64)
    status_code = fields.SmallIntField(null=True)
    response: dict | None = fields.JSONField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "api_idempotency"
        unique_together = (("store_id", "key"),)
