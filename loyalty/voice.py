"""How the shop speaks in the messages it starts: its name, its tone and, if configured, the
model that drafts personal copy (``loyalty.copywriter``), with what each member's copy may use.

Campaigns and the scheduler's birthday and win-back offers both go through here, so every
marketing message is written (and fact-checked) the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.functions import Count

from loyalty.copywriter import Copy, Copywriter, LLMConfig, Offer, Traits
from models.analytics import MemberInsight
from models.members import Customer
from models.purchases import Purchase

#: Copy must leave room in a photo caption (1,024 characters on Telegram) for the ad label, the
#: voucher's own lines and the footer.
COPY_LIMIT = 400


def _templates_only() -> LLMConfig:
    return LLMConfig(api_key=None, base_url=None)


@dataclass(frozen=True)
class Voice:
    shop_name: str
    tone: str = ""
    llm: LLMConfig = field(default_factory=_templates_only)

    def writer(self) -> Copywriter:
        """A fresh copywriter: its cache and usage belong to one campaign or one job run."""
        return Copywriter(self.llm, shop_name=self.shop_name, tone=self.tone, limit=COPY_LIMIT)


async def traits_of(customers: Sequence[Customer], now: datetime) -> dict[int, Traits]:
    """What the copywriter may know of each member: habits from the last analysis and visits
    in the last 90 days. No name, phone or id ever reaches it."""
    ids = [customer.id for customer in customers]
    insights = {row.customer_id: row for row in await MemberInsight.filter(customer_id__in=ids)}
    visits = dict(
        await Purchase.filter(
            customer_id__in=ids, voided_at__isnull=True, created_at__gte=now - timedelta(days=90)
        )
        .annotate(n=Count("id"))
        .group_by("customer_id")
        .values_list("customer_id", "n")
    )
    found = {}
    for customer in customers:
        insight = insights.get(customer.id)
        favourites = insight.favourite_items if insight is not None else []
        found[customer.id] = Traits(
            language=customer.language,
            segment=insight.segment if insight is not None else "",
            tier=customer.tier_code,
            favourite_item=str(favourites[0]) if favourites else None,
            usual_hour=insight.usual_hour if insight is not None else None,
            visits_90d=int(visits.get(customer.id, 0)),
            days_since_last=insight.recency_days if insight is not None else None,
        )
    return found


async def write_for(
    writer: Copywriter, offer: Offer, traits: dict[int, Traits], variant: int = 0
) -> dict[int, Copy]:
    """Each member's copy. All at once: the copywriter itself limits the model calls in flight
    and serves repeated briefs from its cache."""
    copies = await asyncio.gather(
        *(writer.write(offer, traits[member], variant=variant) for member in traits)
    )
    return dict(zip(traits, copies, strict=True))
