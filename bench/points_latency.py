"""How long ``/points`` takes with 10,000 members in the database (handler to reply, no network).

Seeds members with a year of purchases (3 earn entries and lots each, one partly spent), then sends
``/points`` as randomly chosen members through ``handlers.router.handle`` and prints p50/p99/max.

    .venv/bin/python bench/points_latency.py                    # SQLite file in a temp folder
    .venv/bin/python bench/points_latency.py --database postgres://postgres@127.0.0.1:5432/quen_bench

The PostgreSQL database is emptied (public schema dropped) before seeding.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from benchkit import fresh_database, machine, percentile

from handlers.router import handle
from handlers.types import Incoming, Shop
from models.ledger import LedgerEntry, PointsLot
from models.members import ChannelAccount, Customer

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


async def seed(members: int) -> None:
    batch = 1000
    for start in range(0, members, batch):
        ids = range(start + 1, min(members, start + batch) + 1)
        await Customer.bulk_create(
            [Customer(id=i, display_name=f"Khách {i}", points_balance=0) for i in ids]
        )
        await ChannelAccount.bulk_create(
            [
                ChannelAccount(
                    channel="telegram",
                    external_id=str(10**9 + i),
                    chat_id=str(10**9 + i),
                    customer_id=i,
                    language="vi",
                )
                for i in ids
            ]
        )
        entries, lots, balances = [], [], {}
        for i in ids:
            running = 0
            for k, days in enumerate((330, 200, 20)):
                points = 40 + (i * 7 + k * 13) % 400
                running += points
                entry_id = i * 10 + k
                at = NOW - timedelta(days=days)
                entries.append(
                    LedgerEntry(
                        id=entry_id,
                        customer_id=i,
                        kind="earn",
                        points=points,
                        balance_after=running,
                        created_at=at,
                    )
                )
                lots.append(
                    PointsLot(
                        id=entry_id,
                        customer_id=i,
                        entry_id=entry_id,
                        points=points,
                        remaining=points,
                        earned_at=at,
                        expires_at=at + timedelta(days=365),
                    )
                )
            balances[i] = running
        await LedgerEntry.bulk_create(entries)
        await PointsLot.bulk_create(lots)
        for i in ids:
            await Customer.filter(id=i).update(points_balance=balances[i])


async def measure(members: int, requests: int) -> list[float]:
    shop = Shop(name="Bench Café", bot_username="BenchBot", clock=lambda: NOW)
    rng = random.Random(7)
    timings = []
    for n in range(requests + 50):
        user = str(10**9 + rng.randint(1, members))
        incoming = Incoming(channel="telegram", user_id=user, chat_id=user, text="/points")
        started = time.perf_counter()
        replies = await handle(incoming, shop)
        elapsed = time.perf_counter() - started
        assert "Điểm hiện có" in replies[0].text
        if n >= 50:  # the first 50 warm caches and connections
            timings.append(elapsed * 1000)
    return timings


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database URL (default: a new SQLite file)")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2_000)
    args = parser.parse_args()
    async with fresh_database(args.database) as url:
        started = time.perf_counter()
        await seed(args.members)
        seeded = time.perf_counter() - started
        timings = sorted(await measure(args.members, args.requests))
    p50 = statistics.median(timings)
    p99 = percentile(timings, 0.99)
    backend = url.split("://")[0]
    print(f"machine: {machine()}")
    print(f"backend: {backend}, members: {args.members}, seeded in {seeded:.1f} s")
    print(
        f"/points over {len(timings)} requests: p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
        f"max {timings[-1]:.2f} ms, mean {statistics.fmean(timings):.2f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
