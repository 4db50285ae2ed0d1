"""Campaigns an owner approves, and which member is in which arm of each one."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.members import Customer
from models.rewards import Reward, Voucher
from models.staff import StaffMember


class Campaign(Model):
    """One offer to one audience, measured against a holdout.

    The offer is copied here when the owner picks it (like a voucher copies its reward), so the
    report describes what was sent even if the reward changes later. Statuses: draft (being set
    up or previewed), approved (arms assigned, vouchers and messages being prepared), queued
    (every message is in the outbox), cancelled.
    """

    id = fields.BigIntField(primary_key=True)
    created_by: fields.ForeignKeyNullableRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="campaigns", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    status = fields.CharField(max_length=10, default="draft")
    audience_kind = fields.CharField(max_length=10)  # segment | tier | lapsed | all
    audience_value = fields.CharField(max_length=32, default="")
    reward: fields.ForeignKeyNullableRelation[Reward] = fields.ForeignKeyField(
        "models.Reward", related_name="campaigns", null=True, on_delete=fields.SET_NULL
    )
    reward_id: int | None
    offer_title = fields.CharField(max_length=80, default="")
    offer_kind = fields.CharField(max_length=8, default="")
    offer_value = fields.BigIntField(default=0)
    offer_item = fields.CharField(max_length=64, default="")
    offer_min_spend_vnd = fields.BigIntField(null=True)
    valid_until = fields.DatetimeField(null=True)
    holdout_pct = fields.SmallIntField(default=10)
    send_mode = fields.CharField(max_length=8, default="now")  # now | at | usual
    send_at = fields.DatetimeField(null=True)
    attribution_days = fields.SmallIntField(default=14)
    variant = fields.SmallIntField(default=0)
    created_at = fields.DatetimeField()
    approved_at = fields.DatetimeField(null=True)
    members_send = fields.IntField(default=0)
    members_holdout = fields.IntField(default=0)
    llm_calls = fields.IntField(default=0)
    prompt_tokens = fields.IntField(default=0)
    completion_tokens = fields.IntField(default=0)
    llm_fallbacks = fields.IntField(default=0)
    llm_cost_usd = fields.FloatField(default=0.0)
    #: The worker preparing this approved campaign and until when, so a second process does
    #: not draft and issue the same batches in parallel only to have them discarded.
    preparing_by = fields.CharField(max_length=40, null=True)
    preparing_until = fields.DatetimeField(null=True)

    class Meta:
        table = "campaign"
        indexes = (("status",),)


class CampaignMember(Model):
    """A member's arm in a campaign, fixed at approval before anything is sent. ``prepared_at``
    marks members whose voucher and message exist, so preparing resumes after a crash."""

    id = fields.BigIntField(primary_key=True)
    campaign: fields.ForeignKeyRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", related_name="members", on_delete=fields.CASCADE
    )
    campaign_id: int
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="campaign_arms", on_delete=fields.CASCADE
    )
    customer_id: int
    holdout = fields.BooleanField()
    voucher: fields.ForeignKeyNullableRelation[Voucher] = fields.ForeignKeyField(
        "models.Voucher", related_name="campaign_arm", null=True, on_delete=fields.SET_NULL
    )
    voucher_id: int | None
    copy_source = fields.CharField(max_length=8, default="")
    prepared_at = fields.DatetimeField(null=True)

    class Meta:
        table = "campaign_member"
        unique_together = (("campaign_id", "customer_id"),)
        indexes = (("campaign_id", "holdout", "prepared_at"), ("customer_id",), ("voucher_id",))
