"""The short item list cashiers can tick on a bill. One list for the whole shop: a café's menu
rarely differs between branches, and a short list is what keeps ticking fast at the till."""

from __future__ import annotations

from loyalty import audit
from models.purchases import MenuItem

MAX_ITEMS = 20
MAX_NAME = 40


class MenuError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def items() -> list[MenuItem]:
    return await MenuItem.filter(active=True).order_by("id")


async def add_item(actor_account_id: int, name: str) -> MenuItem:
    clean = " ".join(name.split())[:MAX_NAME]
    if not clean:
        raise MenuError("name")
    if await MenuItem.filter(active=True).count() >= MAX_ITEMS:
        raise MenuError("full")
    item = await MenuItem.create(name=clean)
    await audit.record(actor_account_id, "menu.add", clean, item=item.id)
    return item


async def remove_item(actor_account_id: int, item_id: int) -> MenuItem:
    item = await MenuItem.get_or_none(id=item_id, active=True)
    if item is None:
        raise MenuError("unknown")
    await MenuItem.filter(id=item.id).update(active=False)
    await audit.record(actor_account_id, "menu.remove", item.name, item=item.id)
    return item


async def names(item_ids: list[int]) -> list[str]:
    """Names of the ticked items, in menu order (unknown ids are dropped)."""
    found = await MenuItem.filter(id__in=item_ids).order_by("id")
    return [item.name for item in found]
