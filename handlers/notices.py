"""Messages for people other than the sender: the member a cashier served, the owners."""

from __future__ import annotations

from handlers.session import Session
from handlers.types import Recipient, Reply
from locales import t
from loyalty import conversations
from loyalty.staff import OWNER
from models.members import Customer
from models.staff import StaffMember


async def to_member(customer: Customer, text: str) -> list[Reply]:
    """``text`` to every chat of the member that still accepts our messages."""
    return [
        Reply(text, to=Recipient(account.channel, account.chat_id, account.external_id))
        for account in await conversations.reachable_accounts(customer.id)
    ]


async def to_owners(session: Session, key: str, **args: object) -> list[Reply]:
    """An alert to every owner, each in their own language."""
    owners = await StaffMember.filter(role=OWNER, removed_at__isnull=True).prefetch_related(
        "account"
    )
    return [
        Reply(
            t(owner.account.language or session.shop.default_language, key, **args),
            to=Recipient(owner.account.channel, owner.account.chat_id, owner.account.external_id),
        )
        for owner in owners
    ]
