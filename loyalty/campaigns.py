"""Campaigns: one offer to one audience, approved by an owner, measured against a holdout.

The life of a campaign:

1. ``create`` saves the owner's choices as a draft (nothing is decided about members yet).
2. ``preview`` drafts the message for three real members so the owner sees what will go out.
3. ``approve`` fixes the audience and splits it into the arms, in one transaction: each member's
   arm is a hash of campaign and member (``in_holdout``), so the split is decided before
   anything is sent and can be recomputed by anyone auditing it.
4. ``prepare`` (a background worker) drafts each member's copy, issues their voucher and queues
   the message, a batch at a time, marking members done as it goes: a crash resumes where it
   stopped, and the voucher key and the outbox's ``(account, key)`` index make a repeated batch
   give nothing twice. The outbox then applies consent, the send window and the caps.
5. ``report`` compares the arms over the attribution window (``loyalty.experiment``).

The comparison is "intention to treat": every member assigned to receive counts in the sent arm,
delivered or not, so a campaign is not flattered by leaving out the members it failed to reach.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.expressions import F, Q, Subquery
from tortoise.functions import Avg, Count, Sum
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from loyalty import outbox, voice, vouchers
from loyalty.copywriter import Copy, Copywriter, Offer
from models.analytics import MemberInsight
from models.campaigns import Campaign, CampaignMember
from models.members import Customer
from models.outbox import OutboxMessage
from models.purchases import Purchase
from models.rewards import Reward, Voucher
from models.staff import StaffMember

log = logging.getLogger(__name__)

SEGMENT, TIER, LAPSED, ALL = "segment", "tier", "lapsed", "all"
DRAFT, APPROVED, QUEUED, CANCELLED = "draft", "approved", "queued", "cancelled"
NOW, AT, USUAL = "now", "at", "usual"
#: The outbox kind of campaign messages, and the reason on their vouchers.
KIND = "campaign"
#: The holdout share an owner may pick, in per cent. Below 5 % the holdout is too small to
#: measure anything for most shops, above 50 % most of the audience gets nothing.
MIN_HOLDOUT, MAX_HOLDOUT, DEFAULT_HOLDOUT = 5, 50, 10
MIN_LAPSED_DAYS, MAX_LAPSED_DAYS = 7, 365
#: A campaign voucher lasts at most this long: an offer is a nudge to come soon.
MAX_VALID_DAYS = 90
ATTRIBUTION_DAYS = 14
#: Members prepared per transaction: big enough to be quick, small enough to hold no lock long.
BATCH = 200
PREVIEW_MEMBERS = 3


class CampaignError(Exception):
    """Something the owner asked for cannot be done; ``reason`` is a message key suffix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Audience:
    """Who a campaign is for: a segment, a tier, members not seen for ``value`` days, or all.
    Always only members who agreed to offers and were not erased."""

    kind: str
    value: str = ""


@dataclass(frozen=True)
class OfferTerms:
    """What each member of the sent arm gets: a copy of a reward, or a one-off voucher."""

    title: str
    kind: str
    value: int
    item_name: str = ""
    min_spend: int | None = None
    reward_id: int | None = None


def audience_members(audience: Audience, now: datetime) -> QuerySet[Customer]:
    members = Customer.filter(deleted_at__isnull=True, marketing_consent=True)
    if audience.kind == SEGMENT:
        return members.filter(insight__segment=audience.value)
    if audience.kind == TIER:
        return members.filter(tier_code=audience.value)
    if audience.kind == LAPSED:
        cutoff = now - timedelta(days=int(audience.value))
        recent = Purchase.filter(voided_at__isnull=True, created_at__gte=cutoff)
        return members.filter(joined_at__lt=cutoff).exclude(
            id__in=Subquery(recent.values("customer_id"))
        )
    return members


async def audience_ids(audience: Audience, now: datetime) -> list[int]:
    rows = await audience_members(audience, now).order_by("id").values("id")
    return [int(row["id"]) for row in rows]


async def audience_size(audience: Audience, now: datetime) -> int:
    return await audience_members(audience, now).count()


def check_holdout(pct: int) -> int:
    if not MIN_HOLDOUT <= pct <= MAX_HOLDOUT:
        raise CampaignError("holdout-range")
    return pct


async def offer_of_reward(reward_id: int) -> OfferTerms:
    reward = await Reward.get_or_none(id=reward_id, active=True)
    if reward is None:
        raise CampaignError("reward-unknown")
    return OfferTerms(
        title=reward.title,
        kind=reward.kind,
        value=int(reward.value),
        item_name=reward.item_name,
        min_spend=reward.min_spend_vnd,
        reward_id=reward.id,
    )


async def create(
    by: StaffMember,
    audience: Audience,
    offer: OfferTerms,
    *,
    valid_until: datetime,
    holdout_pct: int,
    send_mode: str,
    send_at: datetime | None,
    now: datetime,
) -> Campaign:
    """A draft campaign. Refuses an offer that would be over before it could be used."""
    start = send_at if send_mode == AT and send_at is not None else now
    if valid_until <= start:
        raise CampaignError("offer-expired")
    return await Campaign.create(
        created_by_id=by.id,
        audience_kind=audience.kind,
        audience_value=audience.value,
        reward_id=offer.reward_id,
        offer_title=offer.title,
        offer_kind=offer.kind,
        offer_value=offer.value,
        offer_item=offer.item_name,
        offer_min_spend_vnd=offer.min_spend,
        valid_until=valid_until.astimezone(UTC),
        holdout_pct=check_holdout(holdout_pct),
        send_mode=send_mode,
        send_at=send_at.astimezone(UTC) if send_at else None,
        created_at=now,
    )


def audience_of(campaign: Campaign) -> Audience:
    return Audience(campaign.audience_kind, campaign.audience_value)


def in_holdout(campaign_id: int, customer_id: int, pct: int) -> bool:
    """The member's arm: the first 8 bytes of SHA-256("campaign:member") as a number, modulo
    10,000, below ``pct`` hundredths. Deterministic, independent between campaigns, and uniform
    enough that the holdout share is ``pct`` % within sampling noise."""
    digest = hashlib.sha256(f"{campaign_id}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000 < pct * 100


def copy_offer(campaign: Campaign, zone: ZoneInfo) -> Offer:
    """The facts the copywriter may use (and the fact guard checks against)."""
    if campaign.valid_until is None:
        raise CampaignError("offer-expired")
    return Offer(
        kind=KIND,
        title=campaign.offer_title,
        reward_kind=campaign.offer_kind,
        value=int(campaign.offer_value),
        item_name=campaign.offer_item,
        expires_on=campaign.valid_until.astimezone(zone).date(),
    )


async def preview(
    campaign: Campaign, writer: Copywriter, now: datetime, zone: ZoneInfo
) -> list[tuple[Customer, Copy]]:
    """Drafts for up to three real members of the audience, in the campaign's current variant:
    the members with the most different habits come first, so the owner sees the range."""
    customers = await audience_members(audience_of(campaign), now).order_by("id").limit(200)
    traits = await voice.traits_of(customers, now)
    chosen: list[Customer] = []
    seen: set[tuple[str, str | None, str]] = set()
    for customer in customers:
        mark = (traits[customer.id].segment, traits[customer.id].favourite_item, customer.language)
        if mark not in seen:
            seen.add(mark)
            chosen.append(customer)
    chosen += [c for c in customers if c not in chosen]
    chosen = chosen[:PREVIEW_MEMBERS]
    offer = copy_offer(campaign, zone)
    copies = await voice.write_for(
        writer, offer, {c.id: traits[c.id] for c in chosen}, campaign.variant
    )
    await UsageMeter(campaign.id, writer).record()
    return [(customer, copies[customer.id]) for customer in chosen]


async def redraft(campaign: Campaign) -> None:
    """Ask for new wording: the next variant is drafted fresh, not served from the cache."""
    campaign.variant += 1
    await Campaign.filter(id=campaign.id).update(variant=campaign.variant)


class UsageMeter:
    """Adds what a copywriter spent to a campaign's counters, a batch at a time, so a crash
    loses at most one batch's count and nothing is counted twice."""

    def __init__(self, campaign_id: int, writer: Copywriter) -> None:
        self.campaign_id = campaign_id
        self.writer = writer
        self._counted = (0, 0, 0, 0)

    async def record(self) -> None:
        usage = self.writer.usage
        now = (usage.calls, usage.prompt_tokens, usage.completion_tokens, usage.fallbacks)
        calls, prompt, completion, fallbacks = (
            a - b for a, b in zip(now, self._counted, strict=True)
        )
        if not any((calls, prompt, completion, fallbacks)):
            return
        config = self.writer.config
        cost = (prompt * config.price_in_per_mtok + completion * config.price_out_per_mtok) / 1e6
        await Campaign.filter(id=self.campaign_id).update(
            llm_calls=F("llm_calls") + calls,
            prompt_tokens=F("prompt_tokens") + prompt,
            completion_tokens=F("completion_tokens") + completion,
            llm_fallbacks=F("llm_fallbacks") + fallbacks,
            llm_cost_usd=F("llm_cost_usd") + cost,
        )
        self._counted = now


async def approve(campaign_id: int, now: datetime) -> Campaign:
    """Fix the audience and the arms, once: a second tap (or another owner) finds it approved.

    The status moves with a conditional UPDATE inside the transaction that writes the arms, so
    two approvals at once assign the members once."""
    async with in_transaction():
        campaign = await Campaign.get_or_none(id=campaign_id)
        if campaign is None or campaign.status == CANCELLED:
            raise CampaignError("unknown")
        if campaign.status != DRAFT:
            return campaign
        if campaign.valid_until is None or campaign.valid_until <= now:
            raise CampaignError("offer-expired")
        ids = await audience_ids(audience_of(campaign), now)
        if not ids:
            raise CampaignError("audience-empty")
        won = await Campaign.filter(id=campaign_id, status=DRAFT).update(
            status=APPROVED, approved_at=now
        )
        if not won:
            return await Campaign.get(id=campaign_id)
        rows = [
            CampaignMember(
                campaign_id=campaign_id,
                customer_id=customer_id,
                holdout=in_holdout(campaign_id, customer_id, campaign.holdout_pct),
            )
            for customer_id in ids
        ]
        await CampaignMember.bulk_create(rows, batch_size=1000)
        held = sum(row.holdout for row in rows)
        await Campaign.filter(id=campaign_id).update(
            members_send=len(rows) - held, members_holdout=held
        )
    return await Campaign.get(id=campaign_id)


async def cancel(campaign_id: int) -> bool:
    """Drop a draft. An approved campaign cannot be cancelled here: its vouchers may be out."""
    return bool(await Campaign.filter(id=campaign_id, status=DRAFT).update(status=CANCELLED))


async def waiting_for_preparation() -> list[int]:
    rows = await Campaign.filter(status=APPROVED).order_by("id").values("id")
    return [int(row["id"]) for row in rows]


async def claim_preparation(campaign_id: int, worker: str, now: datetime, until: datetime) -> bool:
    """Take an approved campaign to prepare until ``until`` (renewed by calling again), unless
    another worker holds it. Preparing twice at once gives nothing twice (the keys see to
    that) but drafts and issues every batch twice only for one copy to be thrown away."""
    now, until = now.astimezone(UTC), until.astimezone(UTC)  # SQLite compares them as text
    free = Q(preparing_until__isnull=True) | Q(preparing_until__lt=now) | Q(preparing_by=worker)
    taken = await Campaign.filter(free, id=campaign_id, status=APPROVED).update(
        preparing_by=worker, preparing_until=until
    )
    return bool(taken)


async def release_preparation(campaign_id: int, worker: str) -> None:
    """Let another worker try at once (this one failed and will retry later itself)."""
    await Campaign.filter(id=campaign_id, preparing_by=worker).update(preparing_until=None)


def _send_from(campaign: Campaign) -> datetime | None:
    return campaign.send_at if campaign.send_mode == AT else None


async def prepare(
    campaign_id: int,
    writer: Copywriter,
    now: datetime,
    zone: ZoneInfo,
    still_mine: Callable[[], Awaitable[bool]] | None = None,
) -> int:
    """Draft, issue and queue for every member of the sent arm not done yet; returns how many
    messages were queued. Marks the campaign queued when nobody is left. ``still_mine`` is asked
    after each batch (the worker renews its claim there): False stops here, for its new holder
    to finish."""
    campaign = await Campaign.get(id=campaign_id)
    offer = copy_offer(campaign, zone)
    meter = UsageMeter(campaign_id, writer)
    queued = 0
    while True:
        arms = (
            await CampaignMember.filter(
                campaign_id=campaign_id, holdout=False, prepared_at__isnull=True
            )
            .order_by("id")
            .limit(BATCH)
        )
        if not arms:
            break
        customers = await Customer.filter(id__in=[arm.customer_id for arm in arms])
        eligible = [c for c in customers if c.deleted_at is None and c.marketing_consent]
        traits = await voice.traits_of(eligible, now)
        copies = await voice.write_for(writer, offer, traits, campaign.variant)
        times = await outbox.usual_times(copies, now, zone) if campaign.send_mode == USUAL else {}
        queued += await _queue_batch(campaign, arms, copies, times, now)
        await meter.record()
        if still_mine is not None and not await still_mine():
            return queued
    await Campaign.filter(id=campaign_id, status=APPROVED).update(status=QUEUED)
    return queued


async def _queue_batch(
    campaign: Campaign,
    arms: list[CampaignMember],
    copies: dict[int, Copy],
    times: dict[int, datetime],
    now: datetime,
) -> int:
    """One transaction: a voucher and a message per member, and the members marked prepared.
    Members who withdrew consent or were erased since approval are marked with nothing sent."""
    assert campaign.valid_until is not None  # copy_offer refused a campaign without one
    queued = 0
    async with in_transaction():
        for arm in arms:
            copy = copies.get(arm.customer_id)
            if copy is None:
                await CampaignMember.filter(id=arm.id).update(
                    copy_source="skipped", prepared_at=now
                )
                continue
            key = f"{KIND}:{campaign.id}:{arm.customer_id}"
            issued = await vouchers.issue(
                arm.customer_id,
                reason=KIND,
                title=campaign.offer_title,
                kind=campaign.offer_kind,
                value=int(campaign.offer_value),
                valid_days=max(1, math.ceil((campaign.valid_until - now) / timedelta(days=1))),
                at=now,
                key=key,
                item_name=campaign.offer_item,
                min_spend=campaign.offer_min_spend_vnd,
            )
            await Voucher.filter(id=issued.voucher.id).update(expires_at=campaign.valid_until)
            draft = outbox.Draft(
                kind=KIND,
                key=f"{KIND}:{campaign.id}",
                lines=[(outbox.COPY_LINE, {"text": copy.text})],
                marketing=True,
                voucher_id=issued.voucher.id,
                expires_at=campaign.valid_until,
                not_before=times.get(arm.customer_id) or _send_from(campaign),
            )
            queued += await outbox.to_member(arm.customer_id, draft, now)
            await CampaignMember.filter(id=arm.id).update(
                voucher_id=issued.voucher.id, copy_source=copy.source, prepared_at=now
            )
    return queued


# ------------------------------------------------------------------------------------ costs


@dataclass(frozen=True)
class Estimate:
    """The audience and what the offer costs the shop if every voucher is used. ``cost`` is
    None for a free item (Quen does not know menu prices); ``approximate`` for a percentage,
    which is taken of the audience's average bill."""

    members: int
    send: int
    holdout: int
    cost: int | None
    approximate: bool


async def estimate(campaign: Campaign, now: datetime) -> Estimate:
    ids = await audience_ids(audience_of(campaign), now)
    held = sum(in_holdout(campaign.id, customer_id, campaign.holdout_pct) for customer_id in ids)
    send = len(ids) - held
    if campaign.offer_kind == vouchers.AMOUNT:
        return Estimate(len(ids), send, held, int(campaign.offer_value) * send, False)
    if campaign.offer_kind == vouchers.PERCENT:
        bill = await _average_bill(ids)
        return Estimate(len(ids), send, held, bill * int(campaign.offer_value) * send // 100, True)
    return Estimate(len(ids), send, held, None, False)


async def _average_bill(ids: list[int]) -> int:
    """The audience's average bill from the last analysis, else the shop's average purchase."""
    audience = MemberInsight.filter(customer_id__in=ids, visits__gt=0)
    row = await audience.annotate(bill=Avg("average_spend_vnd")).first().values("bill")
    if not row or not row["bill"]:
        shop = Purchase.filter(voided_at__isnull=True)
        row = await shop.annotate(bill=Avg("amount_vnd")).first().values("bill")
    return round(float(row["bill"] or 0)) if row else 0


# ----------------------------------------------------------------------------------- report


@dataclass(frozen=True)
class Report:
    campaign: Campaign
    delivered: int
    failed: int
    waiting: int
    vouchers: int
    redeemed: int
    start: datetime
    end: datetime
    sent_arm: tuple[int, int, list[int]]
    holdout_arm: tuple[int, int, list[int]]


async def arm_outcomes(
    campaign_id: int, holdout: bool, start: datetime, end: datetime
) -> tuple[int, int, list[int]]:
    """``(members, visitors, revenue per member)`` of one arm in ``[start, end)``."""
    ids = await CampaignMember.filter(campaign_id=campaign_id, holdout=holdout).values_list(
        "customer_id", flat=True
    )
    spent = dict(
        await Purchase.filter(
            customer_id__in=Subquery(
                CampaignMember.filter(campaign_id=campaign_id, holdout=holdout).values(
                    "customer_id"
                )
            ),
            voided_at__isnull=True,
            created_at__gte=start,
            created_at__lt=end,
        )
        .annotate(total=Sum("amount_vnd"))
        .group_by("customer_id")
        .values_list("customer_id", "total")
    )
    revenue = [int(spent.get(customer_id, 0) or 0) for customer_id in ids]
    return len(ids), sum(1 for customer_id in ids if customer_id in spent), revenue


def window(campaign: Campaign) -> tuple[datetime, datetime]:
    """The attribution window: from the send time (or approval) for ``attribution_days``."""
    start = _send_from(campaign) or campaign.approved_at or campaign.created_at
    return start, start + timedelta(days=campaign.attribution_days)


async def report(campaign_id: int) -> Report:
    campaign = await Campaign.get_or_none(id=campaign_id)
    if campaign is None or campaign.status in (DRAFT, CANCELLED):
        raise CampaignError("unknown")
    start, end = window(campaign)
    statuses = dict(
        await OutboxMessage.filter(dedupe_key=f"{KIND}:{campaign_id}")
        .annotate(n=Count("id"))
        .group_by("status")
        .values_list("status", "n")
    )
    issued = Voucher.filter(
        id__in=Subquery(
            CampaignMember.filter(campaign_id=campaign_id, voucher_id__isnull=False).values(
                "voucher_id"
            )
        )
    )
    return Report(
        campaign=campaign,
        delivered=int(statuses.get(outbox.SENT, 0)),
        failed=sum(
            int(statuses.get(s, 0)) for s in (outbox.FAILED, outbox.UNKNOWN, outbox.SKIPPED)
        ),
        waiting=sum(
            int(statuses.get(s, 0)) for s in (outbox.QUEUED, outbox.CLAIMED, outbox.SENDING)
        ),
        vouchers=await issued.count(),
        redeemed=await issued.filter(status=vouchers.REDEEMED).count(),
        start=start,
        end=end,
        sent_arm=await arm_outcomes(campaign_id, False, start, end),
        holdout_arm=await arm_outcomes(campaign_id, True, start, end),
    )


async def recent(limit: int = 10) -> list[Campaign]:
    """The latest approved campaigns, newest first (drafts and cancelled ones have no report)."""
    return await Campaign.filter(status__in=(APPROVED, QUEUED)).order_by("-id").limit(limit)
