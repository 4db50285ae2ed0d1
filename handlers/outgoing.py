"""Outbox messages turned into replies, in the reader's language, when they are sent.

Rendering at send time rather than at queue time means a message waiting for the send window is
written in the language the member chose since, and an erased member's name never sits in the
queue as text. Marketing gets the advertising label first and the way to stop last (Decree
91/2020).
"""

from __future__ import annotations

from datetime import date

from handlers.rewards import voucher_reply
from handlers.session import shown_name, staff_name
from handlers.team import menu_for
from handlers.types import Reply, Shop
from locales import format_date, format_vnd, supported, t
from loyalty import outbox, vouchers
from loyalty.copywriter import fill_name
from loyalty.tiers import name_of
from models.members import ChannelAccount, Customer
from models.outbox import OutboxMessage
from models.rewards import Voucher


class Unrenderable(Exception):
    """The message cannot be written any more (its voucher is gone): skip it, say why."""


async def _fact(value: object, language: str) -> object:
    """``{"$vnd": 85000}`` -> ``85.000 ₫`` and the like; plain values pass through."""
    if not isinstance(value, dict) or len(value) != 1:
        return value
    ((kind, raw),) = value.items()
    if kind == "$vnd":
        return format_vnd(int(raw), language)
    if kind == "$date":
        return format_date(date.fromisoformat(str(raw)))
    if kind == "$member":
        other = await Customer.get_or_none(id=int(raw))
        return shown_name(other) if other is not None and other.deleted_at is None else "—"
    if kind == "$staff":
        account = await ChannelAccount.get_or_none(id=int(raw))
        return staff_name(account) if account is not None else "—"
    if kind == "$tier":
        return await name_of(str(raw), language)
    return value


def language_of(account: ChannelAccount, customer: Customer | None, shop: Shop) -> str:
    if account.language:
        return supported(account.language, shop.default_language)
    if customer is not None:
        return supported(customer.language, shop.default_language)
    return shop.default_language


async def render(
    message: OutboxMessage, account: ChannelAccount, customer: Customer | None, shop: Shop
) -> Reply:
    """The reply for one outbox message. Every line gets ``name`` (the member's) and ``shop``."""
    language = language_of(account, customer, shop)
    common: dict[str, object] = {"shop": shop.name}
    if customer is not None:
        common["name"] = shown_name(customer)
    lines = []
    for key, args in message.payload.get("lines", []):
        if key == outbox.COPY_LINE:
            lines.append(fill_name(str(args["text"]), customer.display_name if customer else ""))
            continue
        facts = {name: await _fact(value, language) for name, value in args.items()}
        lines.append(t(language, key, **{**common, **facts}))
    text = "\n".join(lines)
    if message.marketing:
        text = "\n".join((t(language, "ad-label", shop=shop.name), text, t(language, "ad-footer")))
    menu = menu_for(None, language) if message.payload.get("reset_menu") else None
    voucher_id = message.payload.get("voucher")
    if voucher_id is None:
        return Reply(text, menu=menu)
    voucher = await Voucher.get_or_none(id=int(voucher_id))
    if voucher is None or customer is None:
        raise Unrenderable("its voucher no longer exists")
    if vouchers.state(voucher, shop.clock()) != "live":
        raise Unrenderable(f"its voucher is {voucher.status}")
    card = voucher_reply(shop, voucher, await vouchers.fresh_token(voucher), customer)
    return Reply(f"{text}\n\n{card.text}", image=card.image)


async def template_facts(
    message: OutboxMessage, account: ChannelAccount, customer: Customer | None, shop: Shop
) -> dict[str, str]:
    """Every fact of the message as text in the reader's language, plus ``name`` and ``shop``:
    the parameters of an approved template that stands in for the message (Zalo, outside its
    48-hour window)."""
    language = language_of(account, customer, shop)
    facts = {"shop": shop.name}
    if customer is not None:
        facts["name"] = shown_name(customer)
    for _key, args in message.payload.get("lines", []):
        for name, value in args.items():
            facts[name] = str(await _fact(value, language))
    return facts
