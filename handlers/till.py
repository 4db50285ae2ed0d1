"""At the till: scan (or find) a member, type the bill, confirm, and both sides are told.

The purchase attempt's nonce is the idempotency key, so a double tap on "Confirm", a resent
update or a second process handling the same button records one purchase.
"""

from __future__ import annotations

from handlers.session import Session, shown_name
from handlers.types import Button, Reply
from locales import format_vnd
from loyalty import conversations, members, menu, purchases, rules, tiers
from loyalty.phones import to_e164
from loyalty.purchases import PurchaseRefused
from models.members import Customer
from models.purchases import Purchase

FLOW = "till"
ACTION_PREFIX = "t"


def _key(session: Session, nonce: str) -> str:
    return f"till:{session.account.id}:{nonce}"


async def _begin(session: Session, member: Customer) -> list[Reply]:
    assert session.staff is not None
    try:
        await purchases.check_member(member, session.staff)
    except PurchaseRefused as refused:
        return [session.reply(f"till-error-{refused.reason}", max="")]
    progress = await tiers.refresh_tier(member.id, session.now)
    await conversations.start_flow(session.conversation, FLOW, "amount")
    await conversations.move_to(session.conversation, "amount", customer=member.id)
    return [
        session.reply(
            "till-member",
            name=shown_name(member),
            tier=progress.current.name(session.language),
            points=int(member.points_balance),
        )
    ]


async def scan(session: Session, token: str) -> list[Reply]:
    """The cashier's camera opened the member's card link."""
    member = await members.member_by_card(token)
    if member is None:
        return [session.reply("till-card-unknown")]
    return await _begin(session, member)


async def find(session: Session) -> list[Reply]:
    """``/find 0901234567``: for a member who forgot their phone."""
    phone = to_e164(session.incoming.args)
    if phone is None:
        return [session.reply("till-find-format")]
    member = await members.member_by_phone(phone)
    if member is None:
        return [session.reply("till-find-none")]
    return await _begin(session, member)


async def on_amount(session: Session) -> list[Reply]:
    assert session.staff is not None
    conversation = session.conversation
    member = await Customer.get_or_none(id=conversation.data.get("customer"))
    if member is None or conversation.step != "amount":
        await conversations.end_flow(conversation)
        return [session.reply("till-card-unknown")]
    try:
        amount = purchases.parse_amount(session.incoming.text)
        priced = await purchases.quote(member, session.staff, amount, session.now)
    except PurchaseRefused as refused:
        program = await rules.current()
        return [
            session.reply(
                f"till-error-{refused.reason}",
                max=format_vnd(program.max_purchase_vnd, session.language),
            )
        ]
    await conversations.move_to(
        conversation, "confirm", amount=amount, points=priced.points, items=[]
    )
    return [await _confirmation(session, member, edit=False)]


async def _confirmation(session: Session, member: Customer, *, edit: bool) -> Reply:
    """The question before recording, with the shop's items to tick (ticked ones marked)."""
    data, nonce = session.conversation.data, session.conversation.nonce
    ticked = set(data.get("items", []))
    item_buttons = [
        Button(
            f"{'☑' if item.id in ticked else '☐'} {item.name}",
            f"{ACTION_PREFIX}:{nonce}:item:{item.id}",
        )
        for item in await menu.items()
    ]
    rows = [tuple(item_buttons[i : i + 2]) for i in range(0, len(item_buttons), 2)]
    rows.append(
        (
            Button(session.say("till-confirm-button"), f"{ACTION_PREFIX}:{nonce}:ok"),
            Button(session.say("till-cancel-button"), f"{ACTION_PREFIX}:{nonce}:no"),
        )
    )
    text = session.say(
        "till-confirm",
        name=shown_name(member),
        amount=format_vnd(int(data["amount"]), session.language),
        points=int(data["points"]),
    )
    return Reply(text, buttons=tuple(rows), edit=edit)


async def already_recorded(session: Session, nonce: str) -> bool:
    return await Purchase.filter(idempotency_key=_key(session, nonce)).exists()


async def on_action(session: Session, parts: list[str]) -> list[Reply]:
    """``ok`` or ``no`` on the confirmation (nonce and role already checked)."""
    conversation = session.conversation
    staff_member = session.staff
    assert staff_member is not None
    if parts == ["no"]:
        await conversations.end_flow(conversation)
        return [Reply(session.say("till-cancelled"), edit=True)]
    member = await Customer.get_or_none(id=conversation.data.get("customer"))
    amount = conversation.data.get("amount")
    if conversation.step != "confirm" or member is None or amount is None:
        return [session.reply("button-expired")]
    if len(parts) == 2 and parts[0] == "item" and parts[1].isdigit():
        ticked = set(conversation.data.get("items", [])) ^ {int(parts[1])}
        await conversations.move_to(conversation, "confirm", items=sorted(ticked))
        return [await _confirmation(session, member, edit=True)]
    if parts != ["ok"]:
        return [session.reply("button-expired")]
    try:
        recorded = await purchases.award_purchase(
            member,
            int(amount),
            cashier=staff_member,
            key=_key(session, conversation.nonce),
            at=session.now,
            zone=session.shop.zone,
            items=await menu.names(list(conversation.data.get("items", []))),
        )
    except PurchaseRefused as refused:
        await conversations.end_flow(conversation)
        return [session.reply(f"till-error-{refused.reason}", max="")]
    await conversations.end_flow(conversation)
    if not recorded.new:
        return [session.reply("till-already-recorded")]
    return [
        Reply(
            session.say(
                "till-recorded",
                name=shown_name(member),
                amount=format_vnd(int(amount), session.language),
                points=recorded.points,
                balance=recorded.balance,
            ),
            edit=True,
        )
    ]


async def undo(session: Session) -> list[Reply]:
    assert session.staff is not None
    try:
        undone = await purchases.undo_last(session.staff, session.now)
    except PurchaseRefused as refused:
        program = await rules.current()
        return [session.reply(f"till-error-{refused.reason}", minutes=program.undo_minutes)]
    member = await Customer.get(id=undone.purchase.customer_id)
    amount = format_vnd(int(undone.purchase.amount_vnd), session.language)
    replies = [
        session.reply(
            "till-undone", amount=amount, points=undone.taken_back, name=shown_name(member)
        )
    ]
    if undone.shortfall:
        replies.append(session.reply("till-undone-shortfall", points=undone.shortfall))
    return replies
