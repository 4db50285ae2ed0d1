"""The entry point for every message: find who is talking, then hand over to the right script.

Order matters: a button press is checked against the flow it belongs to, a command always works
(``/start`` in the middle of joining repeats the question), and plain text goes to the flow that is
waiting for it, if any.
"""

from __future__ import annotations

import logging

from handlers import join, member
from handlers.session import Session, command_for_label
from handlers.types import Incoming, Reply, Shop
from locales import supported
from loyalty import conversations

log = logging.getLogger(__name__)

CUSTOMER_COMMANDS = ("start", "card", "points", "language", "help")


async def handle(incoming: Incoming, shop: Shop) -> list[Reply]:
    """Everything the bot answers to one incoming message, in order."""
    now = shop.clock()
    caller = conversations.Caller(
        channel=incoming.channel,
        user_id=incoming.user_id,
        chat_id=incoming.chat_id,
        display_name=incoming.display_name,
        username=incoming.username,
    )
    account = await conversations.account_for(caller, now)
    customer = await conversations.member_of(account)
    fallback = supported(incoming.language_hint, shop.default_language)
    session = Session(
        incoming=incoming,
        shop=shop,
        account=account,
        conversation=await conversations.conversation_of(account),
        member=customer,
        language=supported(account.language or (customer.language if customer else None), fallback),
        now=now,
    )
    if incoming.action is not None:
        return await _on_action(session, incoming.action)
    command = incoming.command or command_for_label(incoming.text)
    if command is not None:
        return await _on_command(session, command)
    if session.conversation.flow == join.FLOW:
        return await join.on_message(session)
    if incoming.contact is not None:
        return [session.reply("contact-unexpected")]
    return [session.reply("not-understood" if session.member else "not-understood-guest")]


async def _on_action(session: Session, action: str) -> list[Reply]:
    parts = action.split(":")
    if parts[0] == member.LANGUAGE_ACTION and len(parts) == 2:
        return await member.choose_language(session, parts[1])
    conversation = session.conversation
    if (
        parts[0] == join.ACTION_PREFIX
        and len(parts) >= 3
        and conversation.flow == join.FLOW
        and parts[1] == conversation.nonce
    ):
        return await join.on_action(session, parts[2:])
    return [session.reply("button-expired")]


async def _on_command(session: Session, command: str) -> list[Reply]:
    if command == "start":
        if session.conversation.flow == join.FLOW:
            return [session.reply("join-in-progress"), join.current_question(session)]
        if session.member is not None:
            return member.greet_member(session)
        return await join.begin(session)
    if command == "skip" and session.conversation.flow == join.FLOW:
        return await join.on_message(session)
    if command == "card":
        return await member.show_card(session)
    if command == "points":
        return await member.show_points(session)
    if command == "language":
        return member.ask_language(session)
    if command == "help":
        return member.show_help(session)
    return [session.reply("unknown-command")]
