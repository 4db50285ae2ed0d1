"""Rewards and vouchers in chat: the catalog (owners), claiming and showing vouchers (members),
scanning or typing a voucher and redeeming it (cashiers)."""

from __future__ import annotations

from handlers.session import Session, shown_name
from handlers.types import Button, Reply, Shop
from locales import format_date, format_vnd, t
from loyalty import conversations, vouchers
from loyalty.voucher_card import render_voucher_card
from loyalty.vouchers import ITEM, PERCENT, VoucherError
from models.members import Customer
from models.rewards import Reward, Voucher
from models.staff import Store

REWARD_FLOW, REWARD_PREFIX = "reward", "r"
REDEEM_FLOW, REDEEM_PREFIX = "redeem", "v"


def _refused(session: Session, error: VoucherError) -> list[Reply]:
    return [session.reply(f"voucher-error-{error.reason}")]


def what_it_gives(language: str, voucher: Voucher | Reward) -> str:
    """What it gives, in the reader's language."""
    if voucher.kind == PERCENT:
        return t(language, "voucher-gives-percent", value=str(voucher.value))
    if voucher.kind == ITEM:
        return t(language, "voucher-gives-item", item=voucher.item_name or voucher.title)
    return t(language, "voucher-gives-amount", amount=format_vnd(int(voucher.value), language))


def voucher_reply(shop: Shop, voucher: Voucher, token: str, owner: Customer) -> Reply:
    """The voucher card (QR with ``token``) and its caption, in the owner's language."""
    language = owner.language
    expires = format_date(voucher.expires_at.astimezone(shop.zone).date())
    image = render_voucher_card(
        shop_name=shop.name,
        title=voucher.title,
        member_name=shown_name(owner),
        expires_label=t(language, "voucher-expires", date=expires),
        short_code=vouchers.grouped(voucher.short_code),
        link=f"https://t.me/{shop.bot_username}?start={vouchers.VOUCHER_PREFIX}{token}",
        logo=shop.logo,
    )
    caption = t(
        language,
        "voucher-caption",
        title=voucher.title,
        gives=what_it_gives(language, voucher),
        date=expires,
        code=vouchers.grouped(voucher.short_code),
    )
    return Reply(caption, image=image)


# ----------------------------------------------------------------------------- members


async def member_rewards(session: Session) -> list[Reply]:
    member = session.member
    if member is None:
        return [session.reply("not-a-member")]
    offers = await vouchers.catalog()
    if not offers:
        return [session.reply("rewards-none")]
    nonce = await conversations.start_flow(session.conversation, REWARD_FLOW, "pick")
    balance = int(member.points_balance)
    lines = [session.say("rewards-title", points=balance)]
    buttons: list[tuple[Button, ...]] = []
    for offer in offers:
        if not await vouchers.tier_allows(member, offer):
            continue
        cost = int(offer.cost_points)
        if vouchers.can_claim(balance, offer):
            label = session.say("rewards-button", title=offer.title, points=cost)
            buttons.append((Button(label[:60], f"{REWARD_PREFIX}:{nonce}:pick:{offer.id}"),))
        else:
            lines.append(
                session.say(
                    "rewards-later", title=offer.title, points=cost, missing=max(0, cost - balance)
                )
            )
    return [Reply("\n".join(lines), buttons=tuple(buttons))]


async def my_vouchers(session: Session) -> list[Reply]:
    member = session.member
    if member is None:
        return [session.reply("not-a-member")]
    live = await vouchers.live_vouchers(member.id, session.now)
    if not live:
        return [session.reply("vouchers-none")]
    nonce = await conversations.start_flow(session.conversation, REWARD_FLOW, "cards")
    lines = [session.say("vouchers-title")]
    buttons = []
    for voucher in live:
        date = format_date(voucher.expires_at.astimezone(session.shop.zone).date())
        lines.append(session.say("vouchers-line", title=voucher.title, date=date))
        label = session.say("vouchers-show", title=voucher.title)[:60]
        buttons.append((Button(label, f"{REWARD_PREFIX}:{nonce}:card:{voucher.id}"),))
    return [Reply("\n".join(lines), buttons=tuple(buttons))]


async def on_reward_action(session: Session, parts: list[str]) -> list[Reply]:
    """``pick:<id>``, ``ok:<id>``, ``no`` or ``card:<voucher id>`` (nonce already checked)."""
    member = session.member
    if member is None or not parts:
        return [session.reply("button-expired")]
    target = int(parts[1]) if len(parts) == 2 and parts[1].isdigit() else None
    if parts[0] == "no":
        await conversations.end_flow(session.conversation)
        return [Reply(session.say("rewards-cancelled"), edit=True)]
    if parts[0] == "card" and target is not None:
        voucher = await Voucher.get_or_none(id=target, customer_id=member.id, status="issued")
        if voucher is None:
            return [session.reply("voucher-error-not-live")]
        return [voucher_reply(session.shop, voucher, await vouchers.fresh_token(voucher), member)]
    offer = await Reward.get_or_none(id=target, active=True) if target else None
    if offer is None:
        return [session.reply("voucher-error-reward-unknown")]
    nonce = session.conversation.nonce
    if parts[0] == "pick":
        question = session.say(
            "rewards-confirm",
            title=offer.title,
            points=int(offer.cost_points),
            days=offer.valid_days,
            gives=what_it_gives(session.language, offer),
        )
        return [
            Reply(
                question,
                edit=True,
                buttons=(
                    (
                        Button(
                            session.say("rewards-yes"), f"{REWARD_PREFIX}:{nonce}:ok:{offer.id}"
                        ),
                        Button(session.say("rewards-no"), f"{REWARD_PREFIX}:{nonce}:no"),
                    ),
                ),
            )
        ]
    if parts[0] == "ok":
        key = f"reward:{session.account.id}:{nonce}"
        try:
            issued = await vouchers.claim_reward(member, offer.id, at=session.now, key=key)
        except VoucherError as error:
            return _refused(session, error)
        await conversations.end_flow(session.conversation)
        fresh = await Customer.get(id=member.id)
        return [
            Reply(session.say("rewards-done", points=int(fresh.points_balance)), edit=True),
            voucher_reply(session.shop, issued.voucher, issued.token, fresh),
        ]
    return [session.reply("button-expired")]


# ---------------------------------------------------------------------------- cashiers


async def when_where(shop: Shop, voucher: Voucher) -> dict[str, str]:
    """When and where a voucher was used (or when it expired), for the refusal messages."""
    when = voucher.redeemed_at or voucher.expires_at
    local = when.astimezone(shop.zone)
    store = (
        await Store.get_or_none(id=voucher.redeemed_store_id) if voucher.redeemed_store_id else None
    )
    return {
        "date": format_date(local.date()),
        "time": local.strftime("%H:%M"),
        "store": store.name if store else shop.name,
    }


def staff_view(shop: Shop, language: str, voucher: Voucher, owner: Customer) -> str:
    """What a cashier sees before redeeming: what it gives, whose, until when, minimum spend."""
    minimum = (
        t(language, "voucher-min-spend", amount=format_vnd(int(voucher.min_spend_vnd), language))
        if voucher.min_spend_vnd
        else ""
    )
    return t(
        language,
        "voucher-staff-view",
        shop=shop.name,
        title=voucher.title,
        gives=what_it_gives(language, voucher),
        name=shown_name(owner),
        minimum=minimum,
        date=format_date(voucher.expires_at.astimezone(shop.zone).date()),
    )


async def _show_to_staff(session: Session, voucher: Voucher) -> list[Reply]:
    why_not = vouchers.state(voucher, session.now)
    if why_not != "live":
        return [
            session.reply(f"voucher-error-{why_not}", **await when_where(session.shop, voucher))
        ]
    owner = await Customer.get(id=voucher.customer_id)
    await conversations.start_flow(session.conversation, REDEEM_FLOW, "confirm")
    await conversations.move_to(session.conversation, "confirm", voucher=voucher.id)
    nonce = session.conversation.nonce
    text = staff_view(session.shop, session.language, voucher, owner)
    button = Button(session.say("voucher-redeem-button"), f"{REDEEM_PREFIX}:{nonce}:ok")
    return [Reply(text, buttons=((button,),))]


async def scan(session: Session, token: str) -> list[Reply]:
    """A voucher link was opened: staff get the redeem view, its owner sees it, anyone else
    learns nothing about it."""
    voucher = await vouchers.by_token(token)
    if voucher is None:
        return [session.reply("voucher-not-found")]
    if session.staff is not None:
        return await _show_to_staff(session, voucher)
    if session.member is not None and session.member.id == voucher.customer_id:
        date = format_date(voucher.expires_at.astimezone(session.shop.zone).date())
        return [
            session.reply(
                "voucher-yours",
                title=voucher.title,
                date=date,
                code=vouchers.grouped(voucher.short_code),
            )
        ]
    return [session.reply("voucher-not-found")]


async def redeem_by_code(session: Session) -> list[Reply]:
    staff = session.staff
    assert staff is not None
    if await vouchers.guessing_locked(staff, session.now):
        return [session.reply("voucher-error-locked")]
    voucher = await vouchers.by_code(session.incoming.args)
    if voucher is not None:
        return await _show_to_staff(session, voucher)
    await vouchers.record_failure(staff, session.now)
    return [session.reply("voucher-not-found")]


async def on_redeem_action(session: Session, parts: list[str]) -> list[Reply]:
    staff = session.staff
    voucher_id = session.conversation.data.get("voucher")
    if staff is None or parts != ["ok"] or voucher_id is None:
        return [session.reply("button-expired")]
    try:
        voucher = await vouchers.redeem(int(voucher_id), staff, session.now)
    except VoucherError as error:
        await conversations.end_flow(session.conversation)
        where = await when_where(session.shop, error.voucher) if error.voucher else {}
        return [session.reply(f"voucher-error-{error.reason}", **where)]
    await conversations.end_flow(session.conversation)
    owner = await Customer.get(id=voucher.customer_id)
    return [
        Reply(
            session.say("voucher-redeemed", title=voucher.title, name=shown_name(owner)),
            edit=True,
        )
    ]


# ------------------------------------------------------------------------------ owners


async def manage(session: Session) -> list[Reply]:
    """``/rewards`` for owners: list, ``add``, ``set``, ``pause``, ``resume``."""
    words = session.incoming.args.split()
    replies: list[Reply] = []
    if words:
        try:
            changed = await _manage_verb(session, words)
        except VoucherError as error:
            return _refused(session, error)
        if changed is None:
            return [session.reply("rewards-owner-help")]
        replies.append(session.reply("rewards-saved", title=changed.title))
    lines = [session.say("rewards-owner-title")]
    for offer in await vouchers.catalog(include_paused=True):
        lines.append(
            session.say(
                "rewards-owner-line",
                id=str(offer.id),
                title=offer.title,
                points=int(offer.cost_points),
                days=offer.valid_days,
                state=session.say("rewards-active" if offer.active else "rewards-paused"),
                stock=session.say("rewards-stock-unlimited")
                if offer.stock is None
                else str(offer.stock),
            )
        )
    lines.append(session.say("rewards-owner-help"))
    return [*replies, Reply("\n".join(lines))]


async def _manage_verb(session: Session, words: list[str]) -> Reward | None:
    verb, actor = words[0].lower(), session.account.id
    if verb == "add" and len(words) >= 6:
        kind, numbers, title = words[1].lower(), words[2:5], " ".join(words[5:])
        if not all(n.replace(".", "").replace(",", "").isdigit() for n in numbers):
            raise VoucherError("reward-value")
        value, cost, days = (int(n.replace(".", "").replace(",", "")) for n in numbers)
        return await vouchers.add_reward(
            actor,
            title=title,
            kind=kind,
            value=value,
            cost=cost,
            valid_days=days,
            item_name=title if kind == ITEM else "",
        )
    if verb == "set" and len(words) >= 4 and words[1].isdigit():
        return await vouchers.edit_reward(
            actor, int(words[1]), words[2].lower(), " ".join(words[3:])
        )
    if verb in ("pause", "resume") and len(words) == 2 and words[1].isdigit():
        return await vouchers.set_active(actor, int(words[1]), verb == "resume")
    return None


async def void_command(session: Session) -> list[Reply]:
    """``/voucher void <code>``: owners cancel a live voucher; reward points come back."""
    words = session.incoming.args.split(maxsplit=1)
    if len(words) != 2 or words[0].lower() != "void":
        return [session.reply("voucher-void-help")]
    voucher = await vouchers.by_code(words[1])
    if voucher is None:
        return [session.reply("voucher-not-found")]
    try:
        refund = await vouchers.void(voucher, session.account.id, session.now)
    except VoucherError as error:
        return _refused(session, error)
    points = int(refund.points) if refund else 0
    return [session.reply("voucher-voided", title=voucher.title, points=points)]
