"""The POS API on a real HTTP server on 127.0.0.1, and a shop to call it about: two stores with a
key each, and Lan, a member with a phone and a card."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest_asyncio
from aiohttp import web

from bot.api import build_api_app
from bot.web import build_web_app
from loyalty import api_keys, members
from models.members import Customer
from models.staff import Store
from tests.conftest import FakeClock

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
LAN_PHONE = "+84912345678"


@dataclass
class Pos:
    """A client session on the running server, with the shop's keys and Lan's card."""

    http: aiohttp.ClientSession
    base: str
    key_a: str
    key_b: str
    lan: Customer
    card: str
    store_a: Store
    store_b: Store

    def auth(self, key: str | None = None, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key_a}", **headers}

    async def purchase(
        self, body: dict[str, Any], idem: str = "k1", key: str | None = None
    ) -> tuple[int, Any]:
        async with self.http.post(
            "/api/v1/purchases", json=body, headers=self.auth(key, **{"Idempotency-Key": idem})
        ) as response:
            return response.status, await response.json()

    async def call(
        self, method: str, path: str, key: str | None = None, idem: str | None = None
    ) -> tuple[int, Any]:
        headers = self.auth(key, **({"Idempotency-Key": idem} if idem is not None else {}))
        async with self.http.request(method, path, headers=headers) as response:
            return response.status, await response.json()


async def serve_api(clock: FakeClock, rate_per_minute: int = 100_000) -> tuple[web.AppRunner, str]:
    api = build_api_app(clock=clock, zone=ZONE, rate_per_minute=rate_per_minute)
    runner = web.AppRunner(build_web_app(None, None, api=api), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def open_shop(clock: FakeClock, base: str) -> Pos:
    store_a = await Store.create(name="Quận 1")
    store_b = await Store.create(name="Quận 3")
    key_a = await api_keys.create_key(store_a.id, name="till A", actor_account_id=None, at=clock())
    key_b = await api_keys.create_key(store_b.id, name="till B", actor_account_id=None, at=clock())
    lan = await Customer.create(display_name="Lan", phone=LAN_PHONE)
    card = await members.issue_card(lan, clock())
    http = aiohttp.ClientSession(base_url=base)
    return Pos(http, base, key_a.secret, key_b.secret, lan, card, store_a, store_b)


@pytest_asyncio.fixture
async def pos(db: str, clock: FakeClock) -> AsyncIterator[Pos]:
    runner, base = await serve_api(clock)
    shop = await open_shop(clock, base)
    yield shop
    await shop.http.close()
    await runner.cleanup()


def bill(amount: Any = 85_000, **member: Any) -> dict[str, Any]:
    return {"amount_vnd": amount, "receipt_id": "R-1", **(member or {"phone": "0912 345 678"})}
