"""How long ``quen check`` takes on a chain-sized shop.

Seeds a consistent database directly with multi-row inserts (``quen demo`` goes through the ledger
and would take most of an hour at this size): per member three purchases with their earn entries
and lots, a chat account and a sent message; every fourth member also claimed a voucher whose
spend drew on two lots (half of those vouchers redeemed). Then runs every invariant twice and
prints the times. The check must find nothing: the seeding is consistent by construction.

    python bench/check.py --members 200000 [--database-url postgres://.../quen_bench_check]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from benchkit import fresh_database, machine
from tortoise import connections

from loyalty.checks import broken, describe, run_checks

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
CHUNK = 20_000


def _columns(table: str, names: str, postgres: bool) -> str:
    count = len(names.split(","))
    marks = ", ".join(f"${n}" for n in range(1, count + 1)) if postgres else ", ".join("?" * count)
    return f"INSERT INTO {table} ({names}) VALUES ({marks})"


def _chunks(rows: Sequence[Sequence[Any]]) -> Iterator[Sequence[Sequence[Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


async def seed(members: int) -> None:
    connection = connections.get("default")
    postgres = connection.capabilities.dialect == "postgres"

    def when(moment: datetime) -> Any:
        return moment if postgres else str(moment)

    tables: dict[str, tuple[str, list[Any]]] = {
        "customer": (
            "id, display_name, language, tier_code, points_balance, marketing_consent, joined_at",
            [],
        ),
        "channel_account": (
            "id, channel, external_id, chat_id, display_name, created_at, customer_id",
            [],
        ),
        "ledger_entry": ("id, customer_id, kind, points, balance_after, note, created_at", []),
        "points_lot": (
            "id, customer_id, entry_id, points, remaining, earned_at, expires_at",
            [],
        ),
        "lot_draw": ("id, entry_id, lot_id, points", []),
        "purchase": (
            "id, customer_id, amount_vnd, points, items, idempotency_key, earn_entry_id,"
            " created_at",
            [],
        ),
        "voucher": (
            "id, customer_id, reason, title, kind, value, item_name, token_hash, short_code,"
            " status, issued_at, expires_at, redeemed_at, spend_entry_id",
            [],
        ),
        "outbox_message": (
            "id, account_id, customer_id, kind, marketing, dedupe_key, payload, status, reason,"
            " attempts, created_at, not_before, sent_at",
            [],
        ),
    }
    rows = {name: spec[1] for name, spec in tables.items()}
    spends = 0
    for member in range(1, members + 1):
        joined = NOW - timedelta(days=400)
        balance = 0
        lots = []
        for visit in range(3):
            entry = 3 * (member - 1) + visit + 1
            points = 20 + (member * 7 + visit * 13) % 80
            at = NOW - timedelta(days=300 - 100 * visit, minutes=member % 1440)
            balance += points
            lots.append((entry, points))
            rows["ledger_entry"].append(
                (entry, member, "earn", points, balance, f"{points * 1000} VND", when(at))
            )
            rows["points_lot"].append(
                [entry, member, entry, points, points, when(at), when(at + timedelta(days=365))]
            )
            rows["purchase"].append(
                (entry, member, points * 1000, points, "[]", f"p{entry}", entry, when(at))
            )
        voucher_id = None
        if member % 4 == 0:
            spends += 1
            (first, first_points), (second, second_points) = lots[0], lots[1]
            cost = first_points + second_points // 2
            spend = 3 * members + spends
            at = NOW - timedelta(days=10)
            balance -= cost
            rows["ledger_entry"].append(
                (spend, member, "spend", -cost, balance, "reward 1", when(at))
            )
            rows["lot_draw"] += [
                (2 * spends - 1, spend, first, first_points),
                (2 * spends, spend, second, cost - first_points),
            ]
            rows["points_lot"][first - 1][4] = 0  # remaining
            rows["points_lot"][second - 1][4] = second_points - (cost - first_points)
            voucher_id = spends
            redeemed = when(at + timedelta(days=1)) if spends % 2 else None
            rows["voucher"].append(
                (
                    voucher_id,
                    member,
                    "reward",
                    "Bạc xỉu",
                    "item",
                    0,
                    "Bạc xỉu",
                    f"{voucher_id:064x}",
                    f"{voucher_id:010d}",
                    "redeemed" if redeemed else "issued",
                    when(at),
                    when(at + timedelta(days=30)),
                    redeemed,
                    spend,
                )
            )
        rows["customer"].append(
            (member, f"Khách {member}", "vi", "member", balance, member % 2 == 0, when(joined))
        )
        rows["channel_account"].append(
            (member, "telegram", str(member), str(member), "", when(joined), member)
        )
        payload = json.dumps({"lines": [], **({"voucher": voucher_id} if voucher_id else {})})
        rows["outbox_message"].append(
            (
                member,
                member,
                member,
                "earned",
                False,
                f"earned:{member}",
                payload,
                "sent",
                "",
                1,
                when(NOW - timedelta(days=1)),
                when(NOW - timedelta(days=1)),
                when(NOW - timedelta(days=1)),
            )
        )
    for table, (names, values) in tables.items():
        statement = _columns(table, names, postgres)
        for chunk in _chunks(values):
            await connection.execute_many(statement, [list(row) for row in chunk])
    if postgres:
        await connection.execute_script("ANALYZE")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--database-url", help="PostgreSQL (its public schema is dropped)")
    args = parser.parse_args()
    async with fresh_database(args.database_url) as url:
        started = time.perf_counter()
        await seed(args.members)
        seeded = time.perf_counter() - started
        backend = "postgres" if url.startswith("postgres") else "sqlite"
        print(machine())
        print(f"backend: {backend}, members: {args.members}, seeded in {seeded:.1f} s")
        for attempt in ("first", "second"):
            started = time.perf_counter()
            findings = await run_checks(NOW)
            print(f"quen check ({attempt} run): {time.perf_counter() - started:.2f} s")
            slowest = sorted(findings, key=lambda finding: -finding.seconds)[:3]
            print("  slowest: " + ", ".join(f"{f.name} {f.seconds:.2f} s" for f in slowest))
        if broken(findings) or any(not finding.ok for finding in findings):
            raise SystemExit(describe(findings, "en"))
        print(describe(findings, "en").splitlines()[-1])


if __name__ == "__main__":
    asyncio.run(main())
