"""A member's rights over their own data (Law 91/2025 on personal data protection).

* **Access**: the recent points movements (``history``) and a full copy of everything stored about
  the member (``export_member``), in a form a machine can read again (``export_json``).
* **Withdrawing and giving consent**: marketing consent can be withdrawn at once and given again;
  each change appends a ``ConsentRecord``, because the shop must be able to show what the person
  agreed to and when, not only the current flag.
* **Erasure** (``erase_member``): what identifies the person goes (name, phone, birthday, chat
  accounts, member cards), and what the shop's books need stays: ledger entries, points lots,
  purchases and consent records only reference the customer id, which identifies nobody once the
  rest is gone. Deleting those rows would also change the shop's points liability and break the
  ledger's invariant (cached balance = sum of entries = sum of lots).

No chat concepts here: the conversation around these rules is ``handlers.privacy``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from loyalty.members import CONSENT_WORDING_VERSION, MARKETING, MEMBERSHIP
from loyalty.outbox import CLAIMED, QUEUED, SKIPPED
from models.ledger import LedgerEntry, PointsLot
from models.members import ChannelAccount, ConsentRecord, Customer, MemberCard
from models.outbox import OutboxMessage
from models.purchases import Purchase
from models.staff import StaffMember

#: The wording of the ``/offers`` opt-in (``offers-ask`` in the catalogs) is not the join wording,
#: so a consent given there records its own version. Bump it when that text changes.
OFFERS_WORDING_VERSION = "2026-11-offers-v1"
HISTORY_LIMIT = 10


@dataclass(frozen=True)
class Movement:
    """One line of a member's points history."""

    kind: str
    points: int
    at: datetime


async def history(customer_id: int, limit: int = HISTORY_LIMIT) -> list[Movement]:
    """The member's latest ledger entries, newest first (ties broken by insertion order, so two
    entries written in the same instant still show in the order they happened, reversed)."""
    entries = (
        await LedgerEntry.filter(customer_id=customer_id)
        .order_by("-created_at", "-id")
        .limit(limit)
    )
    return [Movement(entry.kind, int(entry.points), entry.created_at) for entry in entries]


async def _record_consent(
    customer_id: int,
    purpose: str,
    *,
    granted: bool,
    wording_version: str,
    language: str,
    channel: str,
) -> None:
    await ConsentRecord.create(
        customer_id=customer_id,
        purpose=purpose,
        granted=granted,
        wording_version=wording_version,
        language=language,
        channel=channel,
    )


async def withdraw_marketing(customer: Customer, channel: str, language: str) -> bool:
    """Stop marketing now. Returns False, writing nothing, if it was already withdrawn.

    The flag changes through a conditional ``UPDATE`` in the same transaction as the evidence row,
    so two ``/stop`` at once (or a retried one) record one withdrawal, not two. The record carries
    the join wording version: that is the consent being withdrawn.
    """
    return await _switch_marketing(customer, False, CONSENT_WORDING_VERSION, channel, language)


async def grant_marketing(customer: Customer, channel: str, language: str) -> bool:
    """Opt back in to marketing. Returns False, writing nothing, if consent is already given.

    It is a new consent, given to the ``/offers`` wording, so it records ``OFFERS_WORDING_VERSION``
    and the language it was shown in; the old withdrawal stays in the history.
    """
    return await _switch_marketing(customer, True, OFFERS_WORDING_VERSION, channel, language)


async def _switch_marketing(
    customer: Customer, granted: bool, wording_version: str, channel: str, language: str
) -> bool:
    """Flip the flag with a conditional UPDATE and write the evidence in the same transaction."""
    async with in_transaction():
        changed = await Customer.filter(
            id=customer.id, marketing_consent=not granted, deleted_at__isnull=True
        ).update(marketing_consent=granted)
        if changed:
            await _record_consent(
                customer.id,
                MARKETING,
                granted=granted,
                wording_version=wording_version,
                language=language,
                channel=channel,
            )
    if changed:
        customer.marketing_consent = granted
    return bool(changed)


def _iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC, with its offset, so the file means the same wherever it is read."""
    return moment.astimezone(UTC).isoformat() if moment is not None else None


async def export_member(customer_id: int, at: datetime) -> dict[str, Any]:
    """Everything stored about a (not deleted) member, with English field names and ISO 8601
    times. Card token hashes are left out: they are a credential, not information about the
    person, and a copy of them would let whoever holds the file test guessed tokens offline.
    Raises ``tortoise.exceptions.DoesNotExist`` for an unknown or erased member.
    """
    customer = await Customer.get(id=customer_id, deleted_at__isnull=True)
    accounts = await ChannelAccount.filter(customer_id=customer_id).order_by("id")
    consents = await ConsentRecord.filter(customer_id=customer_id).order_by("created_at", "id")
    entries = await LedgerEntry.filter(customer_id=customer_id).order_by("created_at", "id")
    lots = await PointsLot.filter(customer_id=customer_id).order_by("earned_at", "id")
    cards = await MemberCard.filter(customer_id=customer_id).order_by("issued_at", "id")
    purchases = (
        await Purchase.filter(customer_id=customer_id)
        .order_by("created_at", "id")
        .prefetch_related("store")
    )
    birthday = None
    if customer.birthday_day is not None and customer.birthday_month is not None:
        birthday = {
            "day": customer.birthday_day,
            "month": customer.birthday_month,
            "year": customer.birthday_year,
        }
    return {
        "exported_at": _iso(at),
        "profile": {
            "member_id": customer.id,
            "name": customer.display_name,
            "phone": customer.phone,
            "birthday": birthday,
            "language": customer.language,
            "tier": customer.tier_code,
            "points_balance": int(customer.points_balance),
            "joined_at": _iso(customer.joined_at),
            "marketing_consent": customer.marketing_consent,
        },
        "channel_accounts": [
            {
                "channel": account.channel,
                "external_id": account.external_id,
                "chat_id": account.chat_id,
                "username": account.username,
                "display_name": account.display_name,
                "language": account.language,
                "created_at": _iso(account.created_at),
                "last_seen_at": _iso(account.last_seen_at),
            }
            for account in accounts
        ],
        "consent_records": [
            {
                "purpose": record.purpose,
                "granted": record.granted,
                "wording_version": record.wording_version,
                "language": record.language,
                "channel": record.channel,
                "created_at": _iso(record.created_at),
            }
            for record in consents
        ],
        "ledger_entries": [
            {
                "id": entry.id,
                "kind": entry.kind,
                "points": int(entry.points),
                "balance_after": int(entry.balance_after),
                "note": entry.note,
                "created_at": _iso(entry.created_at),
            }
            for entry in entries
        ],
        "points_lots": [
            {
                "ledger_entry_id": lot.entry_id,  # type: ignore[attr-defined]
                "points": int(lot.points),
                "remaining": int(lot.remaining),
                "earned_at": _iso(lot.earned_at),
                "expires_at": _iso(lot.expires_at),
            }
            for lot in lots
        ],
        "member_cards": [
            {"issued_at": _iso(card.issued_at), "revoked_at": _iso(card.revoked_at)}
            for card in cards
        ],
        "purchases": [
            {
                "amount_vnd": int(purchase.amount_vnd),
                "points": int(purchase.points),
                "items": purchase.items,
                "store": purchase.store.name if purchase.store is not None else None,
                "created_at": _iso(purchase.created_at),
                "voided_at": _iso(purchase.voided_at),
            }
            for purchase in purchases
        ],
    }


def export_json(export: dict[str, Any]) -> bytes:
    """The export as a UTF-8 JSON file a person can read too (Vietnamese letters kept, indented)."""
    return json.dumps(export, ensure_ascii=False, indent=2).encode("utf-8")


async def erase_member(customer_id: int, at: datetime, *, channel: str) -> bool:
    """Erase a member's personal data at their request. Returns False if there was nothing to
    erase (unknown or already erased member), so a double press is harmless.

    Cleared: name, phone, birthday, marketing consent. All member cards are revoked, so a card
    image still in someone's gallery scans as unknown. Chat accounts are deleted (with their
    conversation state), so the next message comes from a stranger and ``/start`` makes a new
    member. Accounts that belong to staff are only unlinked: deleting them would cascade to the
    staff role (ending a cashier's access) and unlink the purchases they recorded, and a staff
    identity is the shop's employment record, not membership data.

    Kept, because they identify nobody without the rest and the shop's books need them: ledger
    entries, points lots (the balance stays equal to the ledger, so totals and the points
    liability do not move), purchases and consent records. Withdrawal of every consent still
    granted is appended to the consent records as evidence of the erasure request. Messages still
    queued for the member are skipped, and the facts in all their outbox rows are cleared.
    """
    async with in_transaction():
        customer = (
            await Customer.filter(id=customer_id, deleted_at__isnull=True)
            .select_for_update()
            .first()
        )
        if customer is None:
            return False
        await Customer.filter(id=customer_id).update(
            display_name="",
            phone=None,
            birthday_day=None,
            birthday_month=None,
            birthday_year=None,
            marketing_consent=False,
            deleted_at=at,
        )
        await MemberCard.filter(customer_id=customer_id, revoked_at__isnull=True).update(
            revoked_at=at
        )
        account_ids = await ChannelAccount.filter(customer_id=customer_id).values_list(
            "id", flat=True
        )
        staff_ids = await StaffMember.filter(account_id__in=list(account_ids)).values_list(
            "account_id", flat=True
        )
        await ChannelAccount.filter(id__in=list(staff_ids)).update(customer_id=None)
        await OutboxMessage.filter(customer_id=customer_id, status__in=(QUEUED, CLAIMED)).update(
            status=SKIPPED, reason="member deleted"
        )
        await OutboxMessage.filter(customer_id=customer_id).update(payload={})
        await ChannelAccount.filter(customer_id=customer_id).delete()
        withdrawn = [MEMBERSHIP, MARKETING] if customer.marketing_consent else [MEMBERSHIP]
        for purpose in withdrawn:
            await _record_consent(
                customer_id,
                purpose,
                granted=False,
                wording_version=CONSENT_WORDING_VERSION,
                language=customer.language,
                channel=channel,
            )
    return True
