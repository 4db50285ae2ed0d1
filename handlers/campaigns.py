"""``/campaign`` walks an owner through a campaign, ``/campaigns`` shows how they did.

The script: audience -> offer -> how long the voucher lasts -> holdout share -> when to send ->
a preview (audience size, cost if everyone redeems, three drafted messages for real members)
-> Approve, Redraft or Cancel. Choices live in the conversation row until the preview, which
saves a draft campaign; nothing is assigned or sent before Approve. An owner who walks away
leaves a draft that never goes out.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from handlers.session import Session, shown_name
from handlers.types import Button, Reply
from locales import format_date, format_vnd
from loyalty import campaigns, conversations, experiment, vouchers
from loyalty.campaigns import Audience, CampaignError, OfferTerms
from loyalty.copywriter import fill_name
from loyalty.purchases import PurchaseRefused, parse_amount
from loyalty.segments import SEGMENTS
from loyalty.tiers import current_rules, name_of
from models.campaigns import Campaign

FLOW, ACTION_PREFIX = "campaign", "cp"
DAY_CHOICES = (7, 14, 30)
HOLDOUT_CHOICES = (5, 10, 20)
_PERCENT = re.compile(r"^(\d{1,3})\s*%$")
_CLOCK = re.compile(r"^(?:(\d{1,2})/(\d{1,2})(?:/(\d{4}))?\s+)?(\d{1,2})[:h](\d{2})$")
_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})(?:/(\d{4}))?$")


def _button(session: Session, label: str, *parts: object) -> Button:
    return Button(label, ":".join((ACTION_PREFIX, session.conversation.nonce, *map(str, parts))))


# ------------------------------------------------------------------------------ the script


async def start(session: Session) -> list[Reply]:
    """``/campaign``: the first question, who it is for."""
    await conversations.start_flow(session.conversation, FLOW, "audience")
    return [await _ask_audience(session)]


async def start_for_segment(session: Session, segment: str) -> list[Reply]:
    """From ``/segments``: the audience is chosen already."""
    await conversations.start_flow(session.conversation, FLOW, "audience")
    return await _audience_chosen(session, Audience(campaigns.SEGMENT, segment))


async def _ask_audience(session: Session) -> Reply:
    now = session.now
    rows: list[tuple[Button, ...]] = []
    for name in SEGMENTS:
        count = await campaigns.audience_size(Audience(campaigns.SEGMENT, name), now)
        if count:
            label = f"{session.say(f'segment-{name}')} ({count})"
            rows.append((_button(session, label, "aud", campaigns.SEGMENT, name),))
    for tier in await current_rules():
        count = await campaigns.audience_size(Audience(campaigns.TIER, tier.code), now)
        if count:
            label = session.say(
                "campaign-tier-button", tier=tier.name(session.language), count=count
            )
            rows.append((_button(session, label, "aud", campaigns.TIER, tier.code),))
    everyone = await campaigns.audience_size(Audience(campaigns.ALL), now)
    rows.append((_button(session, session.say("campaign-lapsed-button"), "aud", "lapsed", ""),))
    label = session.say("campaign-all-button", count=everyone)
    rows.append((_button(session, label, "aud", campaigns.ALL, ""),))
    rows.append((_button(session, session.say("campaign-cancel-button"), "stop"),))
    return Reply(session.say("campaign-ask-audience"), buttons=tuple(rows))


async def _audience_chosen(session: Session, audience: Audience) -> list[Reply]:
    if not await campaigns.audience_size(audience, session.now):
        return [session.reply("campaign-audience-empty"), await _ask_audience(session)]
    await conversations.move_to(
        session.conversation, "offer", audience=[audience.kind, audience.value]
    )
    return [await _ask_offer(session)]


async def _ask_offer(session: Session) -> Reply:
    rows = [
        (_button(session, f"{reward.title}", "reward", reward.id),)
        for reward in await vouchers.catalog()
    ]
    rows.append((_button(session, session.say("campaign-oneoff-button"), "oneoff"),))
    rows.append((_button(session, session.say("campaign-cancel-button"), "stop"),))
    return Reply(session.say("campaign-ask-offer"), buttons=tuple(rows))


def _ask_days(session: Session) -> Reply:
    row = tuple(
        _button(session, session.say("campaign-days-button", days=days), "days", days)
        for days in DAY_CHOICES
    )
    return Reply(session.say("campaign-ask-days", most=campaigns.MAX_VALID_DAYS), buttons=(row,))


def _ask_holdout(session: Session) -> Reply:
    row = tuple(_button(session, f"{pct}%", "holdout", pct) for pct in HOLDOUT_CHOICES)
    return Reply(
        session.say(
            "campaign-ask-holdout",
            least=campaigns.MIN_HOLDOUT,
            most=campaigns.MAX_HOLDOUT,
            default=campaigns.DEFAULT_HOLDOUT,
        ),
        buttons=(row,),
    )


def _ask_when(session: Session) -> Reply:
    row = (
        _button(session, session.say("campaign-when-now"), "when", campaigns.NOW),
        _button(session, session.say("campaign-when-usual"), "when", campaigns.USUAL),
    )
    return Reply(session.say("campaign-ask-when"), buttons=(row,))


async def on_action(session: Session, parts: list[str]) -> list[Reply]:
    """A button of the current campaign script (the router checked owner and nonce)."""
    step = session.conversation.step
    match parts:
        case ["stop"]:
            return await _stop(session)
        case ["aud", kind, value] if step == "audience":
            if kind == campaigns.LAPSED:
                await conversations.move_to(session.conversation, "lapsed")
                return [
                    session.reply(
                        "campaign-ask-lapsed",
                        least=campaigns.MIN_LAPSED_DAYS,
                        most=campaigns.MAX_LAPSED_DAYS,
                    )
                ]
            return await _audience_chosen(session, Audience(kind, value))
        case ["reward", reward_id] if step == "offer" and reward_id.isdigit():
            try:
                terms = await campaigns.offer_of_reward(int(reward_id))
            except CampaignError as error:
                return [session.reply(f"campaign-error-{error.reason}"), await _ask_offer(session)]
            return await _offer_chosen(session, terms)
        case ["oneoff"] if step == "offer":
            await conversations.move_to(session.conversation, "oneoff")
            return [session.reply("campaign-ask-oneoff")]
        case ["days", days] if step == "days" and days.isdigit():
            return await _days_chosen(session, int(days))
        case ["holdout", pct] if step == "holdout" and pct.isdigit():
            return await _holdout_chosen(session, int(pct))
        case ["when", mode] if step == "when" and mode in (campaigns.NOW, campaigns.USUAL):
            return await _when_chosen(session, mode, None)
        case [("approve" | "redraft" | "cancel") as verb, campaign_id] if (
            step == "preview" and campaign_id == str(session.conversation.data.get("campaign"))
        ):
            return await _decide(session, verb, int(campaign_id))
        case ["report", campaign_id] if campaign_id.isdigit():
            return await _report(session, int(campaign_id))
    return [session.reply("button-expired")]


async def on_text(session: Session) -> list[Reply]:
    """Typed answers: days away, a one-off offer, validity, holdout or a send time."""
    text = session.incoming.text.strip()
    step = session.conversation.step
    if step == "lapsed":
        if not text.isdigit() or not (
            campaigns.MIN_LAPSED_DAYS <= int(text) <= campaigns.MAX_LAPSED_DAYS
        ):
            return [
                session.reply(
                    "campaign-ask-lapsed",
                    least=campaigns.MIN_LAPSED_DAYS,
                    most=campaigns.MAX_LAPSED_DAYS,
                )
            ]
        await conversations.move_to(session.conversation, "audience")
        return await _audience_chosen(session, Audience(campaigns.LAPSED, text))
    if step == "oneoff":
        terms = one_off_offer(session, text)
        if terms is None:
            return [session.reply("campaign-oneoff-bad")]
        return await _offer_chosen(session, terms)
    if step == "days":
        return await _days_typed(session, text)
    if step == "holdout":
        pct = text.rstrip("%").strip()
        if not pct.isdigit():
            return [_ask_holdout(session)]
        return await _holdout_chosen(session, int(pct))
    if step == "when":
        moment = send_time(text, session)
        if moment is None:
            return [session.reply("campaign-when-bad"), _ask_when(session)]
        return await _when_chosen(session, campaigns.AT, moment)
    return [session.reply("campaign-use-buttons")]


def _gives_something(kind: str, value: int) -> bool:
    try:
        vouchers.check_value(kind, value)
    except vouchers.VoucherError:
        return False
    return True


def one_off_offer(session: Session, text: str) -> OfferTerms | None:
    """``20%`` -> 20 % off, ``30000`` or ``30k`` -> 30,000 ₫ off, anything else is a free item
    of that name. The title is written in the owner's language (it is what vouchers show)."""
    percent = _PERCENT.match(text)
    if percent:
        value = int(percent.group(1))
        if not _gives_something(vouchers.PERCENT, value):
            return None
        title = session.say("campaign-title-percent", value=value)
        return OfferTerms(title=title, kind=vouchers.PERCENT, value=value)
    try:
        amount = parse_amount(text)
    except PurchaseRefused:
        amount = None
    if amount is not None:
        if not _gives_something(vouchers.AMOUNT, amount):
            return None
        title = session.say("campaign-title-amount", amount=format_vnd(amount, session.language))
        return OfferTerms(title=title, kind=vouchers.AMOUNT, value=amount)
    item = " ".join(text.split())[:64]
    if not item or any(ch.isdigit() for ch in item) or item.startswith("/"):
        return None
    title = session.say("campaign-title-item", item=item)[:80]
    return OfferTerms(title=title, kind=vouchers.ITEM, value=0, item_name=item)


async def _offer_chosen(session: Session, terms: OfferTerms) -> list[Reply]:
    await conversations.move_to(
        session.conversation,
        "days",
        offer={
            "title": terms.title,
            "kind": terms.kind,
            "value": terms.value,
            "item": terms.item_name,
            "min_spend": terms.min_spend,
            "reward": terms.reward_id,
        },
    )
    return [_ask_days(session)]


def _end_of(day: date, session: Session) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=session.shop.zone)


async def _days_typed(session: Session, text: str) -> list[Reply]:
    if text.isdigit():
        return await _days_chosen(session, int(text))
    match = _DAY.match(text)
    today = session.now.astimezone(session.shop.zone).date()
    if match is None:
        return [_ask_days(session)]
    try:
        day = date(int(match.group(3) or today.year), int(match.group(2)), int(match.group(1)))
    except ValueError:
        return [_ask_days(session)]
    if day < today:
        return [session.reply("campaign-error-offer-expired"), _ask_days(session)]
    if (day - today).days > campaigns.MAX_VALID_DAYS:
        return [_ask_days(session)]
    return await _valid_until(session, _end_of(day, session))


async def _days_chosen(session: Session, days: int) -> list[Reply]:
    if not 1 <= days <= campaigns.MAX_VALID_DAYS:
        return [_ask_days(session)]
    today = session.now.astimezone(session.shop.zone).date()
    return await _valid_until(session, _end_of(today + timedelta(days=days), session))


async def _valid_until(session: Session, until: datetime) -> list[Reply]:
    await conversations.move_to(session.conversation, "holdout", until=until.isoformat())
    return [_ask_holdout(session)]


async def _holdout_chosen(session: Session, pct: int) -> list[Reply]:
    try:
        campaigns.check_holdout(pct)
    except CampaignError:
        key = "campaign-holdout-none" if pct == 0 else "campaign-holdout-all" if pct >= 100 else ""
        replies = [session.reply(key)] if key else []
        return [*replies, _ask_holdout(session)]
    await conversations.move_to(session.conversation, "when", holdout=pct)
    return [_ask_when(session)]


def send_time(text: str, session: Session) -> datetime | None:
    """``18:00`` (today, or tomorrow if it has passed) or ``24/12 09:30``; None if not a time
    in the next 30 days."""
    match = _CLOCK.match(text)
    if match is None:
        return None
    day_text, month_text, year_text, hour, minute = match.groups()
    local_now = session.now.astimezone(session.shop.zone)
    try:
        clock = time(int(hour), int(minute))
        day = (
            date(int(year_text or local_now.year), int(month_text), int(day_text))
            if day_text
            else local_now.date()
        )
    except ValueError:
        return None
    moment = datetime.combine(day, clock, tzinfo=session.shop.zone)
    if moment <= local_now and not day_text:
        moment += timedelta(days=1)
    if not local_now < moment <= local_now + timedelta(days=30):
        return None
    return moment


async def _when_chosen(session: Session, mode: str, moment: datetime | None) -> list[Reply]:
    data = session.conversation.data
    offer = data["offer"]
    terms = OfferTerms(
        title=offer["title"],
        kind=offer["kind"],
        value=int(offer["value"]),
        item_name=offer["item"],
        min_spend=offer["min_spend"],
        reward_id=offer["reward"],
    )
    assert session.staff is not None  # the router lets only owners into this script
    try:
        campaign = await campaigns.create(
            session.staff,
            Audience(*data["audience"]),
            terms,
            valid_until=datetime.fromisoformat(data["until"]),
            holdout_pct=int(data["holdout"]),
            send_mode=mode,
            send_at=moment,
            now=session.now,
        )
    except CampaignError as error:
        return [session.reply(f"campaign-error-{error.reason}"), _ask_days(session)]
    await conversations.move_to(session.conversation, "preview", campaign=campaign.id)
    return await _preview(session, campaign)


async def _audience_name(session: Session, campaign: Campaign) -> str:
    kind, value = campaign.audience_kind, campaign.audience_value
    if kind == campaigns.SEGMENT:
        return session.say(f"segment-{value}")
    if kind == campaigns.TIER:
        return session.say("campaign-audience-tier", tier=await name_of(value, session.language))
    if kind == campaigns.LAPSED:
        return session.say("campaign-audience-lapsed", days=int(value))
    return session.say("campaign-audience-all")


def _when_text(session: Session, campaign: Campaign) -> str:
    if campaign.send_mode == campaigns.AT and campaign.send_at is not None:
        local = campaign.send_at.astimezone(session.shop.zone)
        return session.say(
            "campaign-when-at", date=format_date(local.date()), time=local.strftime("%H:%M")
        )
    return session.say(f"campaign-when-{campaign.send_mode}")


async def _preview(session: Session, campaign: Campaign) -> list[Reply]:
    writer = session.shop.voice().writer()
    try:
        estimate = await campaigns.estimate(campaign, session.now)
        samples = await campaigns.preview(campaign, writer, session.now, session.shop.zone)
    finally:
        await writer.close()
    if estimate.cost is None:
        cost = session.say("campaign-cost-items", count=estimate.send, item=campaign.offer_item)
    else:
        cost = session.say(
            "campaign-cost-approx" if estimate.approximate else "campaign-cost",
            amount=format_vnd(estimate.cost, session.language),
        )
    assert campaign.valid_until is not None
    summary = session.say(
        "campaign-preview",
        audience=await _audience_name(session, campaign),
        members=estimate.members,
        send=estimate.send,
        holdout=estimate.holdout,
        pct=campaign.holdout_pct,
        offer=campaign.offer_title,
        until=format_date(campaign.valid_until.astimezone(session.shop.zone).date()),
        when=_when_text(session, campaign),
        cost=cost,
    )
    replies = [Reply(summary)]
    for customer, copy in samples:
        replies.append(
            session.reply(
                f"campaign-sample-{copy.source}",
                name=shown_name(customer),
                text=fill_name(copy.text, customer.display_name),
            )
        )
    buttons = (
        (
            _button(session, session.say("campaign-approve"), "approve", campaign.id),
            _button(session, session.say("campaign-redraft"), "redraft", campaign.id),
        ),
        (_button(session, session.say("campaign-cancel-button"), "cancel", campaign.id),),
    )
    replies.append(Reply(session.say("campaign-decide"), buttons=buttons))
    return replies


async def _decide(session: Session, verb: str, campaign_id: int) -> list[Reply]:
    campaign = await Campaign.get_or_none(id=campaign_id)
    if campaign is None:
        return [session.reply("button-expired")]
    if verb == "redraft":
        await campaigns.redraft(campaign)
        return await _preview(session, campaign)
    if verb == "cancel":
        await campaigns.cancel(campaign_id)
        await conversations.end_flow(session.conversation)
        return [session.reply("campaign-cancelled")]
    try:
        approved = await campaigns.approve(campaign_id, session.now)
    except CampaignError as error:
        return [session.reply(f"campaign-error-{error.reason}")]
    await conversations.end_flow(session.conversation)
    return [
        session.reply(
            "campaign-approved",
            id=approved.id,
            send=approved.members_send,
            holdout=approved.members_holdout,
        )
    ]


async def _stop(session: Session) -> list[Reply]:
    campaign_id = session.conversation.data.get("campaign")
    if campaign_id is not None:
        await campaigns.cancel(int(campaign_id))
    await conversations.end_flow(session.conversation)
    return [session.reply("campaign-cancelled")]


# ---------------------------------------------------------------------------------- reports


async def list_campaigns(session: Session) -> list[Reply]:
    """``/campaigns`` (a list with a report button each) or ``/campaigns <number>``."""
    arg = session.incoming.args
    if arg.lstrip("#").isdigit():
        return await _report(session, int(arg.lstrip("#")))
    found = await campaigns.recent()
    if not found:
        return [session.reply("campaigns-none")]
    nonce = await conversations.start_flow(session.conversation, FLOW, "reports")
    lines = [session.say("campaigns-title")]
    rows = []
    for campaign in found:
        approved = campaign.approved_at or campaign.created_at
        lines.append(
            session.say(
                "campaigns-line",
                id=campaign.id,
                audience=await _audience_name(session, campaign),
                offer=campaign.offer_title,
                date=format_date(approved.astimezone(session.shop.zone).date()),
                members=campaign.members_send,
            )
        )
        label = session.say("campaigns-report-button", id=campaign.id)
        rows.append((Button(label, f"{ACTION_PREFIX}:{nonce}:report:{campaign.id}"),))
    return [Reply("\n".join(lines), buttons=tuple(rows))]


def _arm_line(session: Session, name: str, arm: experiment.Arm) -> str:
    return session.say(
        "campaign-report-arm",
        arm=session.say(f"campaign-arm-{name}"),
        members=arm.members,
        visited=_pct(arm.visit_share),
        revenue=format_vnd(round(arm.revenue_per_member), session.language),
    )


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def _points(value: float) -> str:
    return f"{value * 100:+.1f}"


async def _report(session: Session, campaign_id: int) -> list[Reply]:
    try:
        report = await campaigns.report(campaign_id)
    except CampaignError:
        return [session.reply("campaigns-unknown")]
    campaign = report.campaign
    zone, language = session.shop.zone, session.language
    sent = experiment.Arm(*report.sent_arm)
    held = experiment.Arm(*report.holdout_arm)
    lines = [
        session.say(
            "campaign-report",
            id=campaign.id,
            audience=await _audience_name(session, campaign),
            offer=campaign.offer_title,
            start=format_date(report.start.astimezone(zone).date()),
            end=format_date((report.end - timedelta(seconds=1)).astimezone(zone).date()),
            delivered=report.delivered,
            failed=report.failed,
            waiting=report.waiting,
            vouchers=report.vouchers,
            redeemed=report.redeemed,
            calls=campaign.llm_calls,
            tokens=campaign.prompt_tokens + campaign.completion_tokens,
            fallbacks=campaign.llm_fallbacks,
            cost=f"{campaign.llm_cost_usd:.4f}",
        ),
        *(_arm_line(session, name, arm) for name, arm in (("sent", sent), ("holdout", held))),
    ]
    comparison = experiment.compare(sent, held)
    if comparison is None:
        lines.append(session.say("campaign-verdict-too-few"))
    else:
        visits, revenue = comparison.visits, comparison.revenue
        lines.append(
            session.say(
                "campaign-report-difference",
                diff=_points(visits.estimate),
                low=_points(visits.low),
                high=_points(visits.high),
                p=f"{comparison.p_value:.3f}",
                revenue=format_vnd(round(revenue.estimate), language),
                rlow=format_vnd(round(revenue.low), language),
                rhigh=format_vnd(round(revenue.high), language),
            )
        )
        lines.append(session.say(f"campaign-verdict-{comparison.verdict}"))
    if session.now < report.end:
        lines.append(session.say("campaign-report-interim"))
    return [Reply("\n".join(lines))]
