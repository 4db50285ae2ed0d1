"""Joining the program and the member card's token.

A member's QR code carries a 128-bit random token, never an id: anyone who photographs a card
learns nothing, and the database keeps only the token's SHA-256, so a leaked backup cannot mint
cards. Each card issued is a row; the newest ``ACTIVE_CARDS`` stay valid.

Till customers brought in by ``loyalty.importer`` are members nobody has claimed yet: someone who
joins in the chat and shares that phone number (their own, checked by the chat app) becomes that
member, purchase history included (``set_phone``).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from loyalty import outbox
from loyalty.birthdays import Birthday
from models.ledger import LedgerEntry, PointsLot
from models.members import ChannelAccount, ConsentRecord, Customer, MemberCard
from models.outbox import OutboxMessage
from models.purchases import Purchase
from models.rewards import Voucher

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


async def set_phone(customer: Customer, phone_e164: str) -> Customer:
    """Store a verified phone number; returns the member the person is from now on.

    If an unclaimed imported member (``_unclaimed_import``) has the number and ``customer`` has
    nothing recorded yet (they are joining), the two are one person: ``customer`` is merged into
    that member (``_merge_into``), who is returned. Raises ``PhoneTaken`` if another member has
    the number otherwise: it is not taken from them.
    """
    async with in_transaction():
        other = (
            await Customer.filter(phone=phone_e164)
            .exclude(id=customer.id)
            .select_for_update()
            .first()
        )
        if other is None:
            await Customer.filter(id=customer.id).update(phone=phone_e164)
            customer.phone = phone_e164
            return customer
        if not (await _unclaimed_import(other) and not await _has_history(customer.id)):
            raise PhoneTaken(phone_e164)
        return await _merge_into(other, customer.id)


async def _unclaimed_import(member: Customer) -> bool:
    """Created by an import and never joined: no chat account and no consent record, not erased.

    Joining always records consent (``join``), so only the importer makes members without one.
    """
    return (
        member.deleted_at is None
        and not await ChannelAccount.filter(customer_id=member.id).exists()
        and not await ConsentRecord.filter(customer_id=member.id).exists()
    )


async def _has_history(customer_id: int) -> bool:
    """Purchases, points or vouchers: anything a merge would have to carry across."""
    for model in (Purchase, LedgerEntry, PointsLot, Voucher):
        if await model.filter(customer_id=customer_id).exists():
            return True
    return False


async def _merge_into(member: Customer, joining_id: int) -> Customer:
    """Fold the member created at the consent step into the imported ``member`` (call inside a
    transaction). What belongs to the person who joined moves: chat accounts, consent evidence,
    cards, queued messages, the friends they invited; and their choices are copied: name,
    language, marketing consent, birthday, referral code, and the join time. A referral link they
    joined through is dropped: they were the shop's customer already, and existing customers
    cannot be referred. The joining record, empty by then, is deleted."""
    joining = await Customer.filter(id=joining_id).select_for_update().get()
    for model in (ChannelAccount, ConsentRecord, MemberCard, OutboxMessage):
        await model.filter(customer_id=joining_id).update(customer_id=member.id)
    await Customer.filter(referred_by_id=joining_id).update(referred_by_id=member.id)
    await Customer.filter(id=joining_id).delete()  # first: the referral code is unique
    choices: dict[str, object] = {
        "display_name": joining.display_name,
        "language": joining.language,
        "marketing_consent": joining.marketing_consent,
        "joined_at": joining.joined_at.astimezone(UTC),
        "referral_code": joining.referral_code,
    }
    if joining.birthday_day is not None:
        choices.update(
            birthday_day=joining.birthday_day,
            birthday_month=joining.birthday_month,
            birthday_year=joining.birthday_year,
        )
    await Customer.filter(id=member.id).update(**choices)
    return await Customer.get(id=member.id)


async def linkable_member(phone_e164: str, joining: Customer, channel: str) -> Customer | None:
    """The member who has ``phone_e164`` and joined on another chat app, if ``joining`` (who just
    joined on ``channel`` and shared that number) may become them: one person, two apps.
    None if the number is someone's on the same app, or ``joining`` already has history."""
    other = (
        await Customer.filter(phone=phone_e164, deleted_at__isnull=True)
        .exclude(id=joining.id)
        .first()
    )
    if other is None or await _has_history(joining.id):
        return None
    apps = set(await ChannelAccount.filter(customer_id=other.id).values_list("channel", flat=True))
    if not apps or channel in apps:
        return None
    return other


async def link_account(
    account: ChannelAccount, member_id: int, joining_id: int, at: datetime
) -> Customer:
    """Attach ``account`` to the member ``member_id`` (the same person on another app, who
    confirmed), folding the record created when they joined here into it: the account, its
    consent evidence and cards move; the member keeps their own name, choices and balance. The
    joining record, empty by then, is deleted. Refused (``PhoneTaken``) if the joining record
    has gained any history in the meantime."""
    async with in_transaction():
        member = await Customer.filter(id=member_id, deleted_at__isnull=True).select_for_update()
        if not member or await _has_history(joining_id):
            raise PhoneTaken(str(member_id))
        for model in (ChannelAccount, ConsentRecord, MemberCard, OutboxMessage):
            await model.filter(customer_id=joining_id).update(customer_id=member_id)
        await Customer.filter(referred_by_id=joining_id).update(referred_by_id=member_id)
        await Customer.filter(id=joining_id).delete()
        account.customer_id = member_id
        others = await ChannelAccount.filter(customer_id=member_id).exclude(id=account.id)
        notice = outbox.Draft(
            "linked", f"linked:{account.id}", [("notice-linked", {"app": account.channel})]
        )
        await outbox.to_accounts(others, notice, at)
        return member[0]


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


async def member_by_phone(phone_e164: str) -> Customer | None:
    """The member with this phone number, for a cashier whose customer forgot their card."""
    return await Customer.get_or_none(phone=phone_e164, deleted_at__isnull=True)
