"""The member's data rights in chat: /history, /stop, /offers, /mydata and /delete.

The rules live in ``loyalty.privacy``; this is only the conversation. Giving consent and erasing
data are asked for with a button that carries the flow's nonce (as joining does), so an old button
or one typed by hand is refused instead of acting on stale state. Withdrawing consent needs no
confirmation: stopping must be as easy as one message.
"""

from __future__ import annotations

from datetime import timedelta

from handlers.session import Session
from handlers.types import Attachment, Button, Reply
from locales import format_date
from loyalty import conversations, ledger, privacy
from models.members import Customer

PRIVACY_COMMANDS = ("history", "stop", "offers", "mydata", "delete")
DELETE_FLOW = "delete"
DELETE_ACTION = "d"
OFFERS_FLOW = "offers"
OFFERS_ACTION = "o"
ACTION_PREFIXES = (DELETE_ACTION, OFFERS_ACTION)
#: The flow each button prefix belongs to: a button only works while its own flow is current.
FLOW_OF_ACTION = {DELETE_ACTION: DELETE_FLOW, OFFERS_ACTION: OFFERS_FLOW}
CONFIRM_STEP = "confirm"
YES, NO = "yes", "no"
JSON_MIME = "application/json"
#: The balance shown needs no "expiring soon" part.
NOW_ONLY = timedelta(0)

#: The label of each ledger kind in the history; other kinds show ``history-kind-other``.
KIND_LABELS = {
    "earn": "history-kind-earn",
    "spend": "history-kind-spend",
    "expire": "history-kind-expire",
    "earn_reversal": "history-kind-earn-reversal",
    "adjust": "history-kind-adjust",
    "referral": "history-kind-referral",
    "gift": "history-kind-gift",
}


async def on_command(session: Session, command: str) -> list[Reply]:
    """One of ``PRIVACY_COMMANDS``. Every one of them is for members only."""
    member = session.member
    if member is None:
        return [session.reply("not-a-member")]
    if command == "history":
        return await _history(session, member)
    if command == "stop":
        return await _stop(session, member)
    if command == "offers":
        return await _ask_offers(session, member)
    if command == "mydata":
        return await _my_data(session, member)
    if command == "delete":
        return await _ask_delete(session, member)
    return [session.reply("unknown-command")]


async def on_action(session: Session, parts: list[str]) -> list[Reply]:
    """A button of ours: ``d:<nonce>:yes|no`` or ``o:<nonce>:yes|no`` (``parts`` is the whole
    action split on ``:``). Anything else, an old nonce or a flow that moved on is refused."""
    conversation = session.conversation
    member = session.member
    if (
        member is None
        or len(parts) != 3
        or parts[0] not in FLOW_OF_ACTION
        or conversation.flow != FLOW_OF_ACTION[parts[0]]
        or conversation.step != CONFIRM_STEP
        or parts[1] != conversation.nonce
        or parts[2] not in (YES, NO)
    ):
        return [session.reply("button-expired")]
    if parts[0] == DELETE_ACTION:
        return await _delete(session, member, confirmed=parts[2] == YES)
    return await _offers(session, member, accepted=parts[2] == YES)


async def _history(session: Session, member: Customer) -> list[Reply]:
    movements = await privacy.history(member.id)
    lines = [session.say("history-title" if movements else "history-empty")]
    for movement in movements:
        day = format_date(movement.at.astimezone(session.shop.zone).date())
        label = session.say(KIND_LABELS.get(movement.kind, "history-kind-other"))
        key = "history-line-in" if movement.points >= 0 else "history-line-out"
        lines.append(session.say(key, date=day, points=abs(movement.points), name=label))
    balance = await ledger.balance(member.id, session.now, NOW_ONLY)
    lines.append(session.say("points-balance", points=balance.points))
    return [Reply("\n".join(lines), keyboard=session.menu())]


async def _stop(session: Session, member: Customer) -> list[Reply]:
    withdrawn = await privacy.withdraw_marketing(member, session.incoming.channel, session.language)
    return [session.reply("stop-done" if withdrawn else "stop-already")]


async def _ask_offers(session: Session, member: Customer) -> list[Reply]:
    if member.marketing_consent:
        return [session.reply("offers-already")]
    nonce = await conversations.start_flow(session.conversation, OFFERS_FLOW, CONFIRM_STEP)
    return [
        Reply(
            session.say("offers-ask"),
            buttons=(
                (Button(session.say("offers-yes"), f"{OFFERS_ACTION}:{nonce}:{YES}"),),
                (Button(session.say("offers-no"), f"{OFFERS_ACTION}:{nonce}:{NO}"),),
            ),
        )
    ]


async def _offers(session: Session, member: Customer, *, accepted: bool) -> list[Reply]:
    await conversations.end_flow(session.conversation)
    if not accepted:
        return [Reply(session.say("offers-declined"), edit=True)]
    granted = await privacy.grant_marketing(member, session.incoming.channel, session.language)
    if not granted:
        return [Reply(session.say("offers-already"), edit=True)]
    return [Reply(f"✅ {session.say('offers-yes')}", edit=True), session.reply("offers-done")]


async def _my_data(session: Session, member: Customer) -> list[Reply]:
    export = await privacy.export_member(member.id, session.now)
    day = session.now.astimezone(session.shop.zone).date().isoformat()
    document = Attachment(
        filename=f"quen-mydata-{day}.json",
        data=privacy.export_json({"shop": session.shop.name, **export}),
        mime_type=JSON_MIME,
    )
    return [Reply(session.say("mydata-caption"), document=document)]


async def _ask_delete(session: Session, member: Customer) -> list[Reply]:
    balance = await ledger.balance(member.id, session.now, NOW_ONLY)
    nonce = await conversations.start_flow(session.conversation, DELETE_FLOW, CONFIRM_STEP)
    return [
        Reply(
            session.say("delete-ask", points=balance.points),
            buttons=(
                (Button(session.say("delete-yes"), f"{DELETE_ACTION}:{nonce}:{YES}"),),
                (Button(session.say("delete-no"), f"{DELETE_ACTION}:{nonce}:{NO}"),),
            ),
        )
    ]


async def _delete(session: Session, member: Customer, *, confirmed: bool) -> list[Reply]:
    """Erase, or not. The replies are worded before erasing: afterwards the chat account and its
    language are gone, and nothing more is said to this person."""
    if not confirmed:
        await conversations.end_flow(session.conversation)
        return [Reply(session.say("delete-cancelled"), edit=True)]
    chosen = Reply(f"✅ {session.say('delete-yes')}", edit=True)
    done = Reply(session.say("delete-done"), remove_keyboard=True)
    await conversations.end_flow(session.conversation)
    if not await privacy.erase_member(member.id, session.now, channel=session.incoming.channel):
        return [session.reply("button-expired")]
    return [chosen, done]
