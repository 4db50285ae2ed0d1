"""The entry point for every message: find who is talking, then hand over to the right script.

Order matters: a button press is checked against the flow it belongs to, a command always works
(``/start`` in the middle of joining repeats the question), and plain text goes to the flow that is
waiting for it, if any.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from handlers import (
    campaigns,
    insight,
    jobs,
    join,
    member,
    outbox,
    owner,
    privacy,
    rewards,
    team,
    till,
)
from handlers.apikeys import apikeys_command
from handlers.session import Session, command_for_label
from handlers.types import Incoming, Reply, Shop
from handlers.weblogin import issue as issue_web_login
from locales import supported
from loyalty import conversations, referrals, staff
from loyalty.members import CARD_PREFIX
from loyalty.vouchers import VOUCHER_PREFIX

log = logging.getLogger(__name__)

CUSTOMER_COMMANDS = (
    "start",
    "card",
    "points",
    "rewards",
    "vouchers",
    "history",
    "invite",
    "language",
    "help",
    "mydata",
    "stop",
    "delete",
)


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
    new_owner = False
    if (incoming.channel, incoming.user_id) in shop.owners:
        session.staff, new_owner = await staff.ensure_owner(account, now)
    else:
        session.staff = await staff.role_of(account)
    replies = await _route(session)
    if new_owner and replies:  # an owner's first message: give them the staff menu
        replies[0] = replace(replies[0], menu=team.menu_for(staff.OWNER, session.language))
    return replies


async def _route(session: Session) -> list[Reply]:
    incoming = session.incoming
    if incoming.action is not None:
        return await _on_action(session, incoming.action)
    command = incoming.command or command_for_label(incoming.text)
    if command is not None:
        return await _on_command(session, command)
    if session.conversation.flow == join.FLOW:
        return await join.on_message(session)
    if session.conversation.flow == till.FLOW and session.staff is not None:
        return await till.on_amount(session)
    if session.conversation.flow == campaigns.FLOW and _is_owner(session):
        return await campaigns.on_text(session)
    if incoming.contact is not None:
        return [session.reply("contact-unexpected")]
    return [session.reply("not-understood" if session.member else "not-understood-guest")]


async def _on_action(session: Session, action: str) -> list[Reply]:
    parts = action.split(":")
    if parts[0] == member.LANGUAGE_ACTION and len(parts) == 2:
        return await member.choose_language(session, parts[1])
    conversation = session.conversation
    if len(parts) < 3:
        return [session.reply("button-expired")]
    prefix, nonce, rest = parts[0], parts[1], parts[2:]
    current = nonce == conversation.nonce
    if prefix == join.ACTION_PREFIX and current and conversation.flow == join.FLOW:
        return await join.on_action(session, rest)
    if prefix == till.ACTION_PREFIX and session.staff is not None:
        if current and conversation.flow == till.FLOW:
            return await till.on_action(session, rest)
        if await till.already_recorded(session, nonce):
            return [session.reply("till-already-recorded")]
    if prefix == team.ACTION_PREFIX and current and conversation.flow == team.FLOW:
        return await team.on_action(session, rest)
    if prefix == rewards.REWARD_PREFIX and current and conversation.flow == rewards.REWARD_FLOW:
        return await rewards.on_reward_action(session, rest)
    if prefix == rewards.REDEEM_PREFIX and current and conversation.flow == rewards.REDEEM_FLOW:
        return await rewards.on_redeem_action(session, rest)
    is_owner = _is_owner(session)
    if (
        prefix == campaigns.ACTION_PREFIX
        and current
        and conversation.flow == campaigns.FLOW
        and is_owner
    ):
        return await campaigns.on_action(session, rest)
    if (
        prefix == insight.ACTION_PREFIX
        and current
        and conversation.flow == insight.FLOW
        and is_owner
    ):
        return await insight.on_action(session, rest)
    if prefix in privacy.ACTION_PREFIXES:
        return await privacy.on_action(session, parts)
    return [session.reply("button-expired")]


async def _on_command(session: Session, command: str) -> list[Reply]:
    if command == "start":
        payload = session.incoming.args
        if payload.startswith(staff.INVITE_PREFIX):
            return await team.accept_invite(session, payload.removeprefix(staff.INVITE_PREFIX))
        if payload.startswith(CARD_PREFIX) and session.staff is not None:
            return await till.scan(session, payload.removeprefix(CARD_PREFIX))
        if payload.startswith(VOUCHER_PREFIX):
            return await rewards.scan(session, payload.removeprefix(VOUCHER_PREFIX))
        if session.conversation.flow == join.FLOW:
            return [session.reply("join-in-progress"), join.current_question(session)]
        if session.member is not None:
            if payload.startswith(referrals.REF_PREFIX):
                return [session.reply("invite-already-member"), *member.greet_member(session)]
            return member.greet_member(session)
        if payload.startswith(referrals.REF_PREFIX):
            return await join.begin(session, payload.removeprefix(referrals.REF_PREFIX))
        return await join.begin(session)
    if command == "skip" and session.conversation.flow == join.FLOW:
        return await join.on_message(session)
    if command == "card":
        return await member.show_card(session)
    if command == "points":
        return await member.show_points(session)
    if command == "invite":
        return await member.show_invite(session)
    if command == "rewards":
        if session.staff is not None and session.staff.role == staff.OWNER:
            return await rewards.manage(session)
        return await rewards.member_rewards(session)
    if command == "vouchers":
        return await rewards.my_vouchers(session)
    if command == "language":
        return member.ask_language(session)
    if command == "help":
        return member.show_help(session)
    if command in privacy.PRIVACY_COMMANDS:
        return await privacy.on_command(session, command)
    if command == "settings" and (session.staff is None or session.staff.role != staff.OWNER):
        return await privacy.on_command(session, "offers")  # a customer's only setting
    if session.staff is not None and command in team.STAFF_ONLY:
        return await _on_staff_command(session, command)
    return [session.reply("unknown-command")]


def _is_owner(session: Session) -> bool:
    return session.staff is not None and session.staff.role == staff.OWNER


OWNER_COMMANDS = {
    "campaign": campaigns.start,
    "campaigns": campaigns.list_campaigns,
    "stats": insight.stats,
    "segments": insight.segments,
    "customer": insight.customer,
    "export": insight.export,
}


async def _on_staff_command(session: Session, command: str) -> list[Reply]:
    """Commands customers never see; the role was read from the database for this message."""
    if command in team.OWNER_ONLY and not _is_owner(session):
        return [session.reply("unknown-command")]
    if command == "settings":
        return await owner.show_or_change_settings(session)
    if command == "jobs":
        return await jobs.show_jobs(session)
    if command == "outbox":
        return await outbox.show(session)
    if command in OWNER_COMMANDS:
        return await OWNER_COMMANDS[command](session)
    if command == "adjust":
        return await owner.adjust(session)
    if command == "menu":
        return await owner.menu_command(session)
    if command == "voucher":
        return await rewards.void_command(session)
    if command == "apikeys":
        return await apikeys_command(session)
    if command == "redeem":
        return await rewards.redeem_by_code(session)
    if command == "find":
        return await till.find(session)
    if command == "undo":
        return await till.undo(session)
    if command == "weblogin":
        return await issue_web_login(session)
    if command == "staff":
        return await team.show_team(session)
    return await team.stores_command(session)
