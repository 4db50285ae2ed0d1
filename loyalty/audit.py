"""The audit log: every staff action, so an owner can answer "who gave these points?"."""

from __future__ import annotations

from typing import Any

from models.audit import AuditEntry


async def record(
    actor_account_id: int | None, action: str, subject: str = "", **details: Any
) -> None:
    """Append one line. ``details`` must be JSON-serialisable (ids, amounts, codes)."""
    await AuditEntry.create(
        actor_account_id=actor_account_id, action=action, subject=subject[:128], details=details
    )
