"""Voucher redemption latency with 50 cashiers redeeming at once (handlers only, no network).

Seeds 10,000 members with one live voucher each and 50 cashiers. Each cashier task repeatedly
takes a voucher from a shared queue and redeems it the way a phone does: ``/start v_<token>``
(the scanned QR) and then the Redeem button from the reply; the two ``handle()`` calls are timed
together. At the end every voucher must be redeemed exactly once, so a failing path cannot pass
as a fast one.

    .venv/bin/python bench/redemption_latency.py
    .venv/bin/python bench/redemption_latency.py --database postgres://postgres@127.0.0.1:5432/quen_bench

The PostgreSQL database is emptied (public schema dropped) before seeding.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time
from datetime import UTC, datetime, timedelta

from benchkit import fresh_database, machine, percentile

from handlers.router import handle
from handlers.types import Incoming, Shop
from loyalty.members import hash_token
from loyalty.vouchers import VOUCHER_PREFIX, new_short_code
from models.members import ChannelAccount, Customer
from models.rewards import Voucher
from models.staff import StaffMember

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


async def seed(members: int, cashiers: int) -> list[str]:
    """Members with one live voucher each; returns the vouchers' raw tokens."""
    tokens: list[str] = []
    for start in range(1, members + 1, 1000):
        ids = range(start, min(members, start + 999) + 1)
        await Customer.bulk_create([Customer(id=i, display_name=f"Khách {i}") for i in ids])
        batch = [secrets.token_urlsafe(16) for _ in ids]
        await Voucher.bulk_create(
            [
                Voucher(
                    customer_id=i,
                    reason="reward",
                    title="Bạc xỉu",
                    kind="item",
                    item_name="Bạc xỉu",
                    token_hash=hash_token(token),
                    short_code=new_short_code(),
                    status="issued",
                    issued_at=NOW,
                    expires_at=NOW + timedelta(days=14),
                )
                for i, token in zip(ids, batch, strict=True)
            ]
        )
        tokens += batch
    for k in range(cashiers):
        account = await ChannelAccount.create(
            channel="telegram", external_id=str(7 * 10**9 + k), chat_id=str(7 * 10**9 + k)
        )
        await StaffMember.create(account_id=account.id, role="cashier")
    return tokens


async def redeem_all(shop: Shop, tokens: list[str], cashiers: int) -> list[float]:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for token in tokens:
        queue.put_nowait(token)
    timings: list[float] = []

    async def cashier(k: int) -> None:
        user = str(7 * 10**9 + k)
        while not queue.empty():
            token = queue.get_nowait()
            started = time.perf_counter()
            shown = await handle(
                Incoming("telegram", user, user, text=f"/start {VOUCHER_PREFIX}{token}"), shop
            )
            action = shown[0].buttons[0][0].action
            done = await handle(Incoming("telegram", user, user, action=action), shop)
            timings.append((time.perf_counter() - started) * 1000)
            assert "Đã dùng voucher" in done[0].text, done[0].text

    await asyncio.gather(*(cashier(k) for k in range(cashiers)))
    return timings


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database URL (default: a new SQLite file)")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--redemptions", type=int, default=2_000)
    parser.add_argument("--cashiers", type=int, default=50)
    args = parser.parse_args()
    async with fresh_database(args.database) as url:
        tokens = await seed(args.members, args.cashiers)
        shop = Shop(name="Bench Café", bot_username="BenchBot", clock=lambda: NOW)
        started = time.perf_counter()
        timings = sorted(await redeem_all(shop, tokens[: args.redemptions], args.cashiers))
        elapsed = time.perf_counter() - started
        redeemed = await Voucher.filter(status="redeemed").count()
    assert redeemed == len(timings) == min(args.redemptions, args.members), redeemed
    p99 = percentile(timings, 0.99)
    print(f"machine: {machine()}")
    print(f"backend: {url.split('://')[0]}, members: {args.members}, cashiers: {args.cashiers}")
    print(
        f"{len(timings)} redemptions (scan + Redeem) in {elapsed:.1f} s = "
        f"{len(timings) / elapsed:.0f}/s; latency p50 {statistics.median(timings):.1f} ms, "
        f"p99 {p99:.1f} ms, max {timings[-1]:.1f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
