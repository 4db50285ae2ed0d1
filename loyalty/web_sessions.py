"""Logging in to the cashier web page: one-time codes from chat, and the sessions they open.

* A staff member asks for a code in chat (``/weblogin``). It is 8 digits (easy to type on a till
  tablet), lives ``LOGIN_CODE_LIFETIME``, works once (a conditional UPDATE) and only its SHA-256
  is stored. Wrong, used and expired codes count against the client's address: ``MAX_FAILURES``
  within ``FAILURE_WINDOW`` lock that address out, so 10^8 codes cannot be walked.
* The code is bound to the staff member who asked and to a store: their own, or, for someone
  who works in all stores (owners), the one they named. A cashier of store A cannot open a
  session for store B.
* A session is a 256-bit random token in an HttpOnly cookie; only its SHA-256 is stored, with
  the staff member, the store, an expiry and a revocation time. Every request re-reads the staff
  member: removing someone, or moving them to another store, ends their sessions at once, as it
  ends their chat access.
* The CSRF token is derived from the session token (``csrf_token``), so nothing more is stored
  and it dies with the session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from loyalty import audit
from loyalty.members import hash_token
from loyalty.staff import role_of
from models.members import ChannelAccount
from models.staff import StaffMember, Store
from models.web import CashierLoginCode, CashierLoginFailure, CashierSession

CODE_DIGITS = 8
LOGIN_CODE_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(hours=12)
MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(minutes=10)
VIA_CODE, VIA_TELEGRAM = "code", "telegram"


class WebLoginError(Exception):
    """No session was opened. ``reason`` picks the message: ``store-not-yours``,
    ``unknown-store``, ``code-invalid``, ``code-used``, ``code-expired``, ``locked``,
    ``not-staff``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Opened:
    """A new session and its raw token (set in the cookie, never stored)."""

    session: CashierSession
    token: str


@dataclass(frozen=True)
class Current:
    """A live session and who acts through it. ``staff.store_id`` is the session's store (for
    all-stores staff, the store their code named): purchases and redemptions are recorded there.
    """

    session: CashierSession
    staff: StaffMember


def grouped(code: str) -> str:
    """``12345678`` -> ``1234 5678``, as the chat shows it."""
    return f"{code[:4]} {code[4:]}"


def csrf_token(session_token: str) -> str:
    """The page's CSRF token: a keyed hash of the session token, checked on every POST."""
    return hmac.new(session_token.encode(), b"quen-cashier-csrf", hashlib.sha256).hexdigest()


async def issue_login_code(staff: StaffMember, store_id: int | None, at: datetime) -> str:
    """A one-time code for ``staff`` at ``store_id`` (None: their own store). Raises
    ``WebLoginError`` when the store is not theirs to choose or does not exist."""
    if store_id is None:
        store_id = staff.store_id
    elif staff.store_id is not None and store_id != staff.store_id:
        raise WebLoginError("store-not-yours")
    if store_id is not None and not await Store.filter(id=store_id).exists():
        raise WebLoginError("unknown-store")
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    await CashierLoginCode.create(
        code_hash=hash_token(code),
        staff_id=staff.id,
        store_id=store_id,
        created_at=at,
        expires_at=at + LOGIN_CODE_LIFETIME,
    )
    await audit.record(staff.account_id, "web.code", "", store=store_id)
    return code


async def _locked(remote: str, at: datetime) -> bool:
    since = at - FAILURE_WINDOW
    return await CashierLoginFailure.filter(remote=remote, at__gt=since).count() >= MAX_FAILURES


async def login_with_code(typed: str, remote: str, at: datetime) -> Opened:
    """Exchange a code for a session, at most once. Raises ``WebLoginError``."""
    remote = remote[:64]
    if await _locked(remote, at):
        raise WebLoginError("locked")
    digits = "".join(ch for ch in typed if not ch.isspace() and ch != "-")
    login = None
    if len(digits) == CODE_DIGITS and digits.isascii() and digits.isdigit():
        login = await CashierLoginCode.get_or_none(code_hash=hash_token(digits))
    reason = "code-invalid"
    if login is not None:
        async with in_transaction():
            claimed = await CashierLoginCode.filter(
                id=login.id, used_at__isnull=True, expires_at__gt=at
            ).update(used_at=at)
            staff = await StaffMember.get_or_none(id=login.staff_id, removed_at__isnull=True)
            if claimed and staff is not None:
                return await _open(staff, login.store_id, VIA_CODE, at)
        if staff is not None:
            reason = "code-used" if login.used_at is not None else "code-expired"
    await CashierLoginFailure.create(remote=remote, at=at)
    raise WebLoginError(reason)


async def login_with_account(channel: str, external_id: str, at: datetime) -> Opened:
    """A session for a chat account that the chat app vouched for (a Telegram Mini App's signed
    ``initData``): whoever is staff now, at their own store. Raises ``WebLoginError``."""
    account = await ChannelAccount.get_or_none(channel=channel, external_id=external_id)
    staff = await role_of(account) if account is not None else None
    if staff is None:
        raise WebLoginError("not-staff")
    return await _open(staff, staff.store_id, VIA_TELEGRAM, at)


async def _open(staff: StaffMember, store_id: int | None, via: str, at: datetime) -> Opened:
    token = secrets.token_urlsafe(32)
    session = await CashierSession.create(
        token_hash=hash_token(token),
        staff_id=staff.id,
        store_id=store_id,
        via=via,
        created_at=at,
        expires_at=at + SESSION_LIFETIME,
    )
    await audit.record(staff.account_id, "web.login", via, session=session.id, store=store_id)
    return Opened(session, token)


async def current(token: str, at: datetime) -> Current | None:
    """The live session for a cookie's token, or None: unknown, expired, logged out, or its staff
    member was removed or moved to another store since."""
    session = await CashierSession.get_or_none(
        token_hash=hash_token(token), revoked_at__isnull=True, expires_at__gt=at
    )
    if session is None:
        return None
    staff = await StaffMember.get_or_none(id=session.staff_id, removed_at__isnull=True)
    if staff is None or (staff.store_id is not None and staff.store_id != session.store_id):
        return None
    staff.store_id = session.store_id  # not saved: what the loyalty rules record as the store
    return Current(session, staff)


async def remember(
    session: CashierSession, *, customer_id: int | None, voucher_id: int | None
) -> None:
    """What the page looked up last: the only member or voucher its next action may touch."""
    await CashierSession.filter(id=session.id).update(
        customer_id=customer_id, voucher_id=voucher_id
    )
    session.customer_id, session.voucher_id = customer_id, voucher_id


async def logout(session: CashierSession, at: datetime) -> None:
    await CashierSession.filter(id=session.id, revoked_at__isnull=True).update(revoked_at=at)
