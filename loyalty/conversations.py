"""Chat accounts and where their multi-step flows stand, kept in the database.

Flow state lives in a row per chat account, so a restart or a second process picks up a half-done
join. Each new flow gets a fresh ``nonce``; buttons carry it, so a button from an old flow (or one
typed by hand) is recognised and refused politely instead of acting on stale state.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from models.members import ChannelAccount, Conversation, Customer


@dataclass(frozen=True)
class Caller:
    """Who sent a message, as the chat app describes them."""

    channel: str
    user_id: str
    chat_id: str
    display_name: str = ""
    username: str | None = None


async def account_for(caller: Caller, at: datetime) -> ChannelAccount:
    """The caller's account, created on first contact; name and chat kept current."""
    defaults = {
        "chat_id": caller.chat_id,
        "display_name": caller.display_name[:128],
        "username": (caller.username or None) and caller.username[:64],
        "last_seen_at": at,
        "unreachable_at": None,
    }
    try:
        account, created = await ChannelAccount.get_or_create(
            defaults=defaults, channel=caller.channel, external_id=caller.user_id
        )
    except IntegrityError:  # two first messages at once: the other one created it
        account, created = (
            await ChannelAccount.get(channel=caller.channel, external_id=caller.user_id),
            False,
        )
    if not created and _stale(account, defaults, at):
        await ChannelAccount.filter(id=account.id).update(**defaults)
        account.update_from_dict(defaults)
    return account


#: ``last_seen_at`` is for "who has been here lately", not an exact log: write it at most this
#: often, so a busy chat does not cost a write per message.
SEEN_RESOLUTION = timedelta(minutes=10)


def _stale(account: ChannelAccount, current: Mapping[str, object], at: datetime) -> bool:
    """Whether the stored account differs from what the app just told us (or was seen long ago,
    or was marked unreachable: a message proves the chat works again)."""
    if account.unreachable_at is not None or account.last_seen_at is None:
        return True
    if at - account.last_seen_at >= SEEN_RESOLUTION:
        return True
    fields = ("chat_id", "display_name", "username")
    return any(getattr(account, name) != current[name] for name in fields)


async def member_of(account: ChannelAccount) -> Customer | None:
    """The (not deleted) member behind an account, if they joined."""
    customer_id = account.customer_id
    if customer_id is None:
        return None
    return await Customer.get_or_none(id=customer_id, deleted_at__isnull=True)


async def set_account_language(account: ChannelAccount, language: str) -> None:
    await ChannelAccount.filter(id=account.id).update(language=language)
    account.language = language


async def conversation_of(account: ChannelAccount) -> Conversation:
    conversation = await Conversation.get_or_none(account_id=account.id)
    if conversation is None:
        try:
            conversation = await Conversation.create(account=account)
        except IntegrityError:
            conversation = await Conversation.get(account_id=account.id)
    return conversation


async def start_flow(conversation: Conversation, flow: str, step: str) -> str:
    """Begin ``flow`` at ``step`` with a fresh nonce (which invalidates older buttons)."""
    conversation.flow, conversation.step = flow, step
    conversation.nonce = secrets.token_hex(3)
    conversation.data = {}
    await conversation.save()
    return conversation.nonce


async def move_to(conversation: Conversation, step: str, **data: Any) -> None:
    conversation.step = step
    conversation.data = {**conversation.data, **data}
    await conversation.save()


async def end_flow(conversation: Conversation) -> None:
    conversation.flow = conversation.step = None
    conversation.data = {}
    await conversation.save()


async def mark_unreachable(channel: str, external_id: str, at: datetime) -> None:
    """The person blocked the bot or the chat is gone: stop writing to them until they return."""
    await ChannelAccount.filter(channel=channel, external_id=external_id).update(unreachable_at=at)


async def reachable_accounts(customer_id: int) -> list[ChannelAccount]:
    """Where a member can be told something: their chat accounts that have not blocked us."""
    return await ChannelAccount.filter(customer_id=customer_id, unreachable_at__isnull=True)
