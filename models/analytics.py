"""What the nightly analysis computes: one insight row per member and the churn model's fit."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.members import Customer


class MemberInsight(Model):
    """A member's scores as of the last analysis (replaced on every run, never edited).

    Recency, frequency and spend come from non-voided purchases. ``p_alive``,
    ``expected_visits_30`` and ``value_12m_vnd`` are empty when the churn model is not fitted.
    """

    id = fields.BigIntField(primary_key=True)
    customer: fields.OneToOneRelation[Customer] = fields.OneToOneField(
        "models.Customer", related_name="insight", on_delete=fields.CASCADE
    )
    customer_id: int
    as_of = fields.DatetimeField()
    visits = fields.IntField(default=0)
    first_visit_at = fields.DatetimeField(null=True)
    last_visit_at = fields.DatetimeField(null=True)
    recency_days = fields.IntField(null=True)
    spend_vnd = fields.BigIntField(default=0)
    average_spend_vnd = fields.BigIntField(default=0)
    r_score = fields.SmallIntField(default=0)
    f_score = fields.SmallIntField(default=0)
    m_score = fields.SmallIntField(default=0)
    segment = fields.CharField(max_length=24, default="")
    p_alive = fields.FloatField(null=True)
    expected_visits_30 = fields.FloatField(null=True)
    value_12m_vnd = fields.BigIntField(null=True)
    favourite_items: list = fields.JSONField(default=list)
    usual_weekday = fields.SmallIntField(null=True)
    usual_hour = fields.SmallIntField(null=True)

    class Meta:
        table = "member_insight"
        indexes = (("segment",),)


class ModelFit(Model):
    """One fit of the churn model (BG/NBD with Gamma-Gamma spend), kept for the analyst."""

    id = fields.BigIntField(primary_key=True)
    as_of = fields.DatetimeField()
    fitted = fields.BooleanField()
    params: dict = fields.JSONField(default=dict)
    log_likelihood = fields.FloatField(null=True)
    members = fields.IntField(default=0)
    note = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "model_fit"
