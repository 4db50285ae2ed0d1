"""The audit log: who did what to whom, for owners and for disputes. Append-only."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class AuditEntry(Model):
    id = fields.BigIntField(primary_key=True)
    actor_account_id = fields.BigIntField(null=True)
    action = fields.CharField(max_length=64)
    subject = fields.CharField(max_length=128, default="")
    details: dict = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "audit_entry"


class JobRun(Model):
    """A scheduled job's claim on one time slot, so two processes never run the same slot."""

    id = fields.BigIntField(primary_key=True)
    job = fields.CharField(max_length=64)
    slot = fields.CharField(max_length=32)
    started_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)
    outcome = fields.CharField(max_length=255, default="")

    class Meta:
        table = "job_run"
        unique_together = (("job", "slot"),)
