"""POS API keys: one store's till system talking to Quen over HTTP.

* A key is ``quen_live_`` + 256 random bits (URL-safe base64). The prefix makes a leaked key easy
  to recognise in a log or a repository scan. Only its SHA-256 is stored: the key is shown once,
  when it is made, and a database backup cannot be used to call the API.
* Each key acts through a staff row of its own (role ``pos``, the key's store) on a channel account
  of channel ``api`` that can never chat. Purchases, redemptions, the voucher-guessing throttle and
  the audit log therefore treat a key exactly like a cashier of that store, and tell two keys of
  one store apart. Revoking a key removes that staff row too.
* ``last_used_at`` is written at most once a minute per key, so a busy till does not turn every
  request into a second write.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from loyalty import audit
from loyalty.staff import POS
from models.api import ApiKey
from models.members import ChannelAccount
from models.staff import StaffMember, Store

KEY_PREFIX = "quen_live_"
API_CHANNEL = "api"
#: How many characters of a key are kept in clear, to tell keys apart in lists.
SHOWN_CHARACTERS = len(KEY_PREFIX) + 6
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyError(Exception):
    """Refused; nothing changed. ``reason`` picks the message (``unknown-store``, ``unknown-key``,
    ``already-revoked``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # shown once, never stored


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def store_named(text: str) -> Store:
    """A store by its number or its exact name (what an owner types). Raises ``ApiKeyError``."""
    clean = text.strip()
    store = None
    if clean.isdigit():
        store = await Store.get_or_none(id=int(clean))
    elif clean:
        store = await Store.filter(name=clean).first()
    if store is None:
        raise ApiKeyError("unknown-store")
    return store


async def create_key(
    store_id: int, *, name: str, actor_account_id: int | None, at: datetime
) -> NewKey:
    """A new key for the store and its till identity. Raises ``ApiKeyError("unknown-store")``."""
    store = await Store.get_or_none(id=store_id)
    if store is None:
        raise ApiKeyError("unknown-store")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    digest = hash_key(secret)
    label = " ".join(name.split())[:64]
    async with in_transaction():
        account = await ChannelAccount.create(
            channel=API_CHANNEL,
            external_id=digest[:32],
            chat_id="",
            display_name=f"POS {label or secret[:SHOWN_CHARACTERS]}"[:128],
        )
        till = await StaffMember.create(account_id=account.id, role=POS, store_id=store.id)
        key = await ApiKey.create(
            name=label,
            prefix=secret[:SHOWN_CHARACTERS],
            key_hash=digest,
            store_id=store.id,
            staff_id=till.id,
            created_by_account_id=actor_account_id,
            created_at=at,
        )
        await audit.record(
            actor_account_id, "apikey.create", key.prefix, key=key.id, store=store.id
        )
    return NewKey(key, secret)


async def keys() -> list[ApiKey]:
    """Every key, live ones first, with its store."""
    every = await ApiKey.all().prefetch_related("store").order_by("id")
    return sorted(every, key=lambda key: (key.revoked_at is not None, key.id))


async def revoke(key_id: int, *, actor_account_id: int | None, at: datetime) -> ApiKey:
    """End a key's access now (its next request gets 401). Raises ``ApiKeyError``."""
    key = await ApiKey.get_or_none(id=key_id)
    if key is None:
        raise ApiKeyError("unknown-key")
    async with in_transaction():
        if not await ApiKey.filter(id=key.id, revoked_at__isnull=True).update(revoked_at=at):
            raise ApiKeyError("already-revoked")
        await StaffMember.filter(id=key.staff_id, removed_at__isnull=True).update(removed_at=at)
        await audit.record(actor_account_id, "apikey.revoke", key.prefix, key=key.id)
    key.revoked_at = at
    return key


async def authenticate(secret: str, at: datetime) -> ApiKey | None:
    """The live key for a presented secret, with its till identity loaded; None for unknown or
    revoked keys (``revoked_key`` tells them apart for the error message)."""
    key = await ApiKey.get_or_none(key_hash=hash_key(secret), revoked_at__isnull=True)
    if key is None:
        return None
    till = await StaffMember.get_or_none(id=key.staff_id, removed_at__isnull=True)
    if till is None:
        return None
    key.staff = till
    stale = at - LAST_USED_RESOLUTION
    await ApiKey.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale), id=key.id).update(
        last_used_at=at
    )
    return key


async def revoked_key(secret: str) -> bool:
    return await ApiKey.filter(key_hash=hash_key(secret), revoked_at__isnull=False).exists()
