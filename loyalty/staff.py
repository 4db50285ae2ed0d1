"""Staff and roles: owners (from settings), managers and cashiers, invited by one-time links.

The role is read from the database on every message, so removing someone ends their access at
once, even for buttons already on their screen. Owners come from ``QUEN_OWNER_TELEGRAM_IDS`` and
cannot be removed in chat (change the setting instead).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from loyalty import audit, notices, outbox
from loyalty.members import hash_token
from models.members import ChannelAccount
from models.staff import StaffInvite, StaffMember, Store

OWNER, MANAGER, CASHIER = "owner", "manager", "cashier"
ROLES = (OWNER, MANAGER, CASHIER)
#: A POS API key's till identity (``loyalty.api_keys``): records like a cashier, never chats.
POS = "pos"
INVITE_PREFIX = "staff_"
INVITE_LIFETIME = timedelta(hours=24)
#: Who may invite or remove whom.
MANAGES = {OWNER: (MANAGER, CASHIER), MANAGER: (CASHIER,), CASHIER: ()}


class StaffError(Exception):
    """A staff action was refused. ``reason`` picks the message shown to the person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def role_of(account: ChannelAccount) -> StaffMember | None:
    """The account's current staff role, if any (checked on every message)."""
    return await StaffMember.filter(account_id=account.id, removed_at__isnull=True).first()


async def ensure_owner(account: ChannelAccount, at: datetime) -> tuple[StaffMember, bool]:
    """Make a configured owner's account an owner. Returns the role and whether it is new."""
    current = await role_of(account)
    if current is not None and current.role == OWNER:
        return current, False
    async with in_transaction():
        if current is not None:
            await StaffMember.filter(id=current.id).update(removed_at=at)
        owner = await StaffMember.create(account_id=account.id, role=OWNER)
        await audit.record(account.id, "staff.owner", str(account.external_id))
    return owner, True


async def appoint(account: ChannelAccount, role: str, *, reason: str) -> StaffMember:
    """Give a role without an invite (only for local tools such as ``quen chat --as``)."""
    member = await StaffMember.create(account_id=account.id, role=role)
    await audit.record(account.id, "staff.appoint", role, reason=reason)
    return member


async def create_invite(by: StaffMember, role: str, store_id: int | None, at: datetime) -> str:
    """A one-time link token for ``role``; only the hash is stored. Raises ``StaffError``."""
    if role not in MANAGES[by.role]:
        raise StaffError("not-allowed")
    if store_id is not None and not await Store.filter(id=store_id).exists():
        raise StaffError("unknown-store")
    token = secrets.token_urlsafe(16)
    await StaffInvite.create(
        token_hash=hash_token(token),
        role=role,
        store_id=store_id,
        created_by=by,
        created_at=at,
        expires_at=at + INVITE_LIFETIME,
    )
    await audit.record(by.account_id, "staff.invite", role, store=store_id)
    return token


async def accept_invite(token: str, account: ChannelAccount, at: datetime) -> StaffMember:
    """Use an invite: the conditional UPDATE lets exactly one person through, once."""
    invite = await StaffInvite.get_or_none(token_hash=hash_token(token))
    if invite is None:
        raise StaffError("invite-invalid")
    current = await role_of(account)
    if current is not None and current.role == OWNER:
        raise StaffError("already-owner")
    async with in_transaction():
        claimed = await StaffInvite.filter(
            id=invite.id, used_at__isnull=True, expires_at__gt=at
        ).update(used_at=at, used_by_id=account.id)
        if not claimed:
            raise StaffError("invite-used" if invite.used_at else "invite-expired")
        if current is not None:
            await StaffMember.filter(id=current.id).update(removed_at=at)
        member = await StaffMember.create(
            account_id=account.id, role=invite.role, store_id=invite.store_id
        )
        await audit.record(account.id, "staff.join", invite.role, invite=invite.id)
    return member


async def team() -> list[StaffMember]:
    """Everyone with an active role, owners first (API keys are listed by ``/apikeys``)."""
    members = await StaffMember.filter(removed_at__isnull=True, role__in=ROLES).prefetch_related(
        "account", "store"
    )
    return sorted(members, key=lambda m: (ROLES.index(m.role), m.id))


async def remove(by: StaffMember, staff_id: int, at: datetime) -> StaffMember:
    """End someone's access now. Owners manage managers and cashiers, managers cashiers."""
    target = await StaffMember.get_or_none(id=staff_id, removed_at__isnull=True)
    if target is None:
        raise StaffError("unknown-staff")
    if target.role not in MANAGES[by.role]:
        raise StaffError("not-allowed")
    async with in_transaction():
        await StaffMember.filter(id=target.id, removed_at__isnull=True).update(removed_at=at)
        removed = await StaffMember.get(id=target.id).prefetch_related("account")
        await outbox.to_accounts([removed.account], notices.staff_removed(target.id), at)
        await audit.record(by.account_id, "staff.remove", target.role, staff=target.id)
    return removed


async def owner_accounts() -> list[ChannelAccount]:
    """Where alerts for owners go."""
    owners = await StaffMember.filter(role=OWNER, removed_at__isnull=True).prefetch_related(
        "account"
    )
    return [owner.account for owner in owners]


async def add_store(by: StaffMember, name: str) -> Store:
    if by.role != OWNER:
        raise StaffError("not-allowed")
    clean = " ".join(name.split())[:128]
    if not clean:
        raise StaffError("store-name")
    try:
        store = await Store.create(name=clean)
    except IntegrityError:
        raise StaffError("store-name") from None
    await audit.record(by.account_id, "store.add", clean, store=store.id)
    return store


async def stores() -> list[Store]:
    return await Store.all().order_by("id")
