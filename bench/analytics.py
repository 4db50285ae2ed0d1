"""The nightly analysis on a big shop: 100,000 members and 1,000,000 purchases over a year.

Seeds the database directly (bulk inserts; ``bench/import_purchases.py`` measures the CSV import),
then times ``loyalty.insight.analyze`` (RFM in SQL, one pass over the purchases for habits, the
BG/NBD + Gamma-Gamma fit, and the rewrite of ``member_insight``) and the 30-day KPIs, and reports
the process's peak memory (max RSS). Goal: analysis under 60 s and under 1 GB on 2 cores.

    .venv/bin/python bench/analytics.py
    .venv/bin/python bench/analytics.py --members 100000 --purchases 1000000 \\
        --database postgres://postgres@127.0.0.1:5432/quen_bench_analytics

The PostgreSQL database is emptied (public schema dropped) before seeding.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from benchkit import fresh_database, machine

from loyalty import churn
from loyalty.insight import analyze
from loyalty.kpis import shop_kpis
from models.members import Customer
from models.purchases import Purchase

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
ITEMS = ["Cà phê sữa đá", "Bạc xỉu", "Trà đào cam sả", "Cà phê muối", "Bánh mì que", "Trà sữa"]


async def seed(members: int, purchases: int, rng: np.random.Generator) -> None:
    """Members with heterogeneous visit rates (a few regulars, many occasional), purchases at
    café hours over the last year."""
    for start in range(0, members, 5000):
        size = min(5000, members - start)
        await Customer.bulk_create(
            [Customer(display_name=f"K{start + i}", language="vi") for i in range(size)]
        )
    ids = np.array(await Customer.all().order_by("id").values_list("id", flat=True))
    weights = rng.gamma(0.6, 1.0, size=len(ids))
    owners = rng.choice(ids, size=purchases, p=weights / weights.sum())
    days = rng.uniform(0, 365, size=purchases)
    hours = rng.choice([7, 8, 9, 12, 13, 15, 17, 19], size=purchases)
    amounts = (rng.integers(25, 250, size=purchases) * 1000).astype(int)
    for start in range(0, purchases, 20_000):
        rows = []
        for i in range(start, min(purchases, start + 20_000)):
            local_day = (NOW - timedelta(days=float(days[i]))).astimezone(ZONE)
            when = local_day.replace(hour=int(hours[i]), minute=int(i % 60)).astimezone(UTC)
            rows.append(
                Purchase(
                    customer_id=int(owners[i]),
                    amount_vnd=int(amounts[i]),
                    points=0,
                    items=[ITEMS[i % len(ITEMS)]],
                    idempotency_key=f"bench:{i}",
                    created_at=min(when, NOW),
                    source="import",
                )
            )
        await Purchase.bulk_create(rows, batch_size=5000)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--purchases", type=int, default=1_000_000)
    parser.add_argument("--database", help="PostgreSQL URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    print(machine())
    async with fresh_database(args.database) as url:
        started = time.perf_counter()
        await seed(args.members, args.purchases, np.random.default_rng(11))
        print(
            f"seeded {args.members} members, {args.purchases} purchases "
            f"({url.split('://')[0]}) in {time.perf_counter() - started:.1f} s; "
            f"peak RSS so far {peak_mb():.0f} MB"
        )
        analysis = await analyze(NOW, ZONE)
        print(f"analysis: {analysis.seconds:.1f} s for {analysis.members} members")
        print(f"  segments: {analysis.segments}")
        if isinstance(analysis.model, churn.Fit):
            b = analysis.model.bgnbd
            print(f"  BG/NBD r={b.r:.3f} alpha={b.alpha:.2f} a={b.a:.3f} b={b.b:.3f}")
        else:
            print(f"  churn model not fitted: {analysis.model.reason}")
        started = time.perf_counter()
        await shop_kpis(NOW - timedelta(days=30), NOW)
        print(f"30-day KPIs: {time.perf_counter() - started:.2f} s")
        print(f"peak RSS of the whole run: {peak_mb():.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
