"""Idempotency keys for the POS API, the way Stripe does them.

A POS that lost an answer (timeout, crash, flaky Wi-Fi) sends the same request again with the same
``Idempotency-Key``. The first request claims the key by inserting a row (a unique index decides
between concurrent ones); when it succeeds its status and body are stored, and every replay gets
exactly them back. The same key with a different request is a client bug and is refused.

Refused requests (unknown member, amount over the limit) store nothing, so the POS can fix the
cause and retry with the same key: nothing was recorded the first time. A claim left unfinished
by a crashed process is taken over after ``ABANDONED_AFTER``; that is safe because the work under
it is idempotent itself (a purchase's own idempotency key is derived from the same key).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from models.api import ApiIdempotency

ABANDONED_AFTER = timedelta(seconds=30)


class IdempotencyConflict(Exception):
    """``key-reused`` (same key, different request) or ``in-progress`` (the first request with
    this key is still being handled)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def fingerprint(operation: str, payload: Any) -> str:
    """The request's identity: its operation and its parsed body, so that whitespace or key order
    in the JSON does not make a faithful retry look like a different request."""
    canonical = json.dumps([operation, payload], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def claim(
    store_id: int, key: str, operation: str, request_hash: str, at: datetime
) -> tuple[int, dict[str, Any]] | None:
    """Take the key for this request. None: the caller owns it now and must ``complete`` or
    ``release`` it. A ``(status, body)`` pair: the first answer, to send again unchanged.
    Raises ``IdempotencyConflict``."""
    try:
        await ApiIdempotency.create(
            store_id=store_id,
            key=key,
            operation=operation,
            request_hash=request_hash,
            created_at=at,
        )
        return None
    except IntegrityError:
        existing = await ApiIdempotency.get_or_none(store_id=store_id, key=key)
    if existing is None:  # the first request was refused and let go of the key just now
        raise IdempotencyConflict("in-progress")
    if existing.request_hash != request_hash:
        raise IdempotencyConflict("key-reused")
    if existing.status_code is None or existing.response is None:
        if existing.created_at > at - ABANDONED_AFTER:
            raise IdempotencyConflict("in-progress")
        return None
    return int(existing.status_code), existing.response


async def complete(store_id: int, key: str, status: int, body: dict[str, Any]) -> None:
    """Keep the first answer for replays."""
    stored = ApiIdempotency.filter(store_id=store_id, key=key)
    await stored.update(status_code=status, response=body)


async def release(store_id: int, key: str) -> None:
    """Let go of a key whose request was refused or failed: nothing was recorded under it."""
    await ApiIdempotency.filter(store_id=store_id, key=key, status_code__isnull=True).delete()
