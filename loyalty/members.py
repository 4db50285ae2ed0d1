"""Joining the program and the member card's token.

A member's QR code carries a 128-bit random token, never an id: anyone who photographs a card
learns nothing, and the database keeps only the token's SHA-256, so a leaked backup cannot mint
cards. Each card issued is a row; the newest ``ACTIVE_CARDS`` stay valid.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from tortoise.transactions import in_transaction

from loyalty.birthdays import Birthday
from models.members import ChannelAccount, ConsentRecord, Customer, MemberCard

#: Bump when the consent wording in the catalogs changes: each consent row records the version.
CONSENT_WORDING_VERSION = "2026-11-join-v1"
MEMBERSHIP = "membership"
MARKETING = "marketing"
ACTIVE_CARDS = 5
CARD_PREFIX = "m_"


class PhoneTaken(Exception):
    """The phone number already belongs to another member."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def card_link(bot_username: str, token: str) -> str:
    """The deep link in the member QR: opens the bot with ``/start m_<token>`` when scanned."""
    return f"https://t.me/{bot_username}?start={CARD_PREFIX}{token}"


async def join(account: ChannelAccount, *, language: str, marketing: bool) -> Customer:
    """Make the account's owner a member, with consent evidence. Joining twice returns the same
    member: the account is re-read under the transaction."""
    async with in_transaction():
        fresh = await ChannelAccount.filter(id=account.id).select_for_update().get()
        if fresh.customer_id is not None:
            return await Customer.get(id=fresh.customer_id)
        customer = await Customer.create(
            display_name=account.display_name,
            language=language,
            marketing_consent=marketing,
        )
        for purpose, granted in ((MEMBERSHIP, True), (MARKETING, marketing)):
            await ConsentRecord.create(
                customer=customer,
                purpose=purpose,
                granted=granted,
                wording_version=CONSENT_WORDING_VERSION,
                language=language,
                channel=account.channel,
            )
        await ChannelAccount.filter(id=account.id).update(customer_id=customer.id)
        account.customer_id = customer.id
        return customer


async def set_phone(customer: Customer, phone_e164: str) -> None:
    """Store a verified phone number. Raises ``PhoneTaken`` if another member has it."""
    other = await Customer.filter(phone=phone_e164).exclude(id=customer.id).exists()
    if other:
        raise PhoneTaken(phone_e164)
    await Customer.filter(id=customer.id).update(phone=phone_e164)
    customer.phone = phone_e164


async def set_birthday(customer: Customer, birthday: Birthday) -> None:
    await Customer.filter(id=customer.id).update(
        birthday_day=birthday.day, birthday_month=birthday.month, birthday_year=birthday.year
    )
    customer.birthday_day, customer.birthday_month = birthday.day, birthday.month
    customer.birthday_year = birthday.year


async def set_language(customer: Customer, language: str) -> None:
    await Customer.filter(id=customer.id).update(language=language)
    customer.language = language


async def issue_card(customer: Customer, at: datetime) -> str:
    """A fresh card token for ``customer``; cards older than the newest ``ACTIVE_CARDS`` stop
    working. Returns the raw token (shown once, in the QR, never stored)."""
    token = secrets.token_urlsafe(16)
    async with in_transaction():
        await MemberCard.create(customer=customer, token_hash=hash_token(token), issued_at=at)
        stale = (
            await MemberCard.filter(customer=customer, revoked_at__isnull=True)
            .order_by("-issued_at", "-id")
            .offset(ACTIVE_CARDS)
            .values_list("id", flat=True)
        )
        if stale:
            await MemberCard.filter(id__in=list(stale)).update(revoked_at=at)
    return token


async def member_by_card(token: str) -> Customer | None:
    """The member a scanned card belongs to, or None for unknown, revoked or deleted cards."""
    card = await MemberCard.get_or_none(token_hash=hash_token(token), revoked_at__isnull=True)
    if card is None:
        return None
    return await Customer.get_or_none(id=card.customer_id, deleted_at__isnull=True)
