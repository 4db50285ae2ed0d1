"""The cashier web page's logins: one-time codes issued in chat, and the sessions they open."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.staff import StaffMember, Store


class CashierLoginCode(Model):
    """A one-time code a staff member asked for in chat (``/weblogin``), typed into the web page.

    Only its SHA-256 is stored. ``used_at`` is set by a conditional UPDATE, so it opens at most one
    session, and only before ``expires_at``. The session acts for ``store`` (the staff member's
    own store, or one an all-stores staff member chose).
    """

    id = fields.BigIntField(primary_key=True)
    code_hash = fields.CharField(max_length=64, unique=True)
    staff: fields.ForeignKeyRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="web_login_codes", on_delete=fields.CASCADE
    )
    staff_id: int
    store: fields.ForeignKeyNullableRelation[Store] = fields.ForeignKeyField(
        "models.Store", related_name="web_login_codes", null=True, on_delete=fields.CASCADE
    )
    store_id: int | None
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "cashier_login_code"
        indexes = (("staff_id",),)


class CashierLoginFailure(Model):
    """A wrong, used or expired login code, by client address: too many lock that address out."""

    id = fields.BigIntField(primary_key=True)
    remote = fields.CharField(max_length=64)
    at = fields.DatetimeField()

    class Meta:
        table = "cashier_login_failure"
        indexes = (("remote", "at"),)


class CashierSession(Model):
    """A logged-in web page: one staff member at one store (``store`` null = all stores, as the
    staff member has in chat). Only the SHA-256 of the cookie's 256-bit token is stored.

    ``customer_id`` and ``voucher_id`` are what the page last looked up: purchases and redemptions
    act only on them, as the chat's conversation state does, so ids cannot be guessed past the
    voucher code throttle.
    """

    id = fields.BigIntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    staff: fields.ForeignKeyRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="web_sessions", on_delete=fields.CASCADE
    )
    staff_id: int
    store: fields.ForeignKeyNullableRelation[Store] = fields.ForeignKeyField(
        "models.Store", related_name="web_sessions", null=True, on_delete=fields.CASCADE
    )
    store_id: int | None
    via = fields.CharField(max_length=16)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    customer_id = fields.BigIntField(null=True)
    voucher_id = fields.BigIntField(null=True)

    class Meta:
        table = "cashier_session"
        indexes = (("staff_id",),)
