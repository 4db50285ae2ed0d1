"""Purchases recorded per second with 10,000 members in the database (handlers only, no network).

Seeds members (customer with a +849… phone, a Telegram account and one member card each) and one
cashier per ``--concurrency``. Each purchase is the whole till conversation through
``handlers.router.handle``: the cashier scans a random member's card (``/start m_<token>``), types
the amount, and presses the confirm button from the reply. The three calls are timed together
(and each step on its own). ``--concurrency N`` runs N cashiers at once, each with its own
account, taking purchases from one shared queue. At the end the purchase rows are counted and the
members' cached balances are checked against the ledger, so failed purchases cannot pass as fast
ones.

    .venv/bin/python bench/purchases_rate.py                    # SQLite file in a temp folder
    .venv/bin/python bench/purchases_rate.py --concurrency 8
    .venv/bin/python bench/purchases_rate.py --database postgres://postgres@127.0.0.1:5432/quen_bench

The PostgreSQL database is emptied (public schema dropped) before seeding: give it a database no
other benchmark is using at the same time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import random
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from benchkit import fresh_database, machine, percentile
from tortoise.functions import Sum

from handlers.router import handle
from handlers.types import Incoming, Reply, Shop
from loyalty.members import CARD_PREFIX, hash_token
from loyalty.staff import CASHIER
from models.ledger import LedgerEntry
from models.members import ChannelAccount, Customer, MemberCard
from models.purchases import Purchase
from models.staff import StaffMember

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
MEMBER_IDS = 10**9  # members' Telegram ids are 10**9 + n
CASHIER_IDS = 5 * 10**9  # cashiers' Telegram ids are 5 * 10**9 + k
STEPS = ("scan", "amount", "confirm")


@dataclass
class Timings:
    """Milliseconds per measured purchase, and per step of it."""

    purchase: list[float] = field(default_factory=list)
    steps: dict[str, list[float]] = field(default_factory=lambda: {step: [] for step in STEPS})


def _token(rng: random.Random) -> str:
    """A card token shaped like ``secrets.token_urlsafe(16)``, but reproducible."""
    return base64.urlsafe_b64encode(rng.randbytes(16)).rstrip(b"=").decode()


async def seed_members(members: int, rng: random.Random) -> list[str]:
    """Members 1..``members`` with a phone, a chat account and a card. Returns the card tokens."""
    tokens = [_token(rng) for _ in range(members)]
    batch = 1000
    for start in range(0, members, batch):
        ids = range(start + 1, min(members, start + batch) + 1)
        await Customer.bulk_create(
            [
                Customer(
                    id=i,
                    display_name=f"Khách {i}",
                    phone=f"+849{i:08d}",
                    language="vi",
                    points_balance=0,
                    joined_at=NOW,
                )
                for i in ids
            ]
        )
        await ChannelAccount.bulk_create(
            [
                ChannelAccount(
                    channel="telegram",
                    external_id=str(MEMBER_IDS + i),
                    chat_id=str(MEMBER_IDS + i),
                    customer_id=i,
                    language="vi",
                )
                for i in ids
            ]
        )
        await MemberCard.bulk_create(
            [
                MemberCard(customer_id=i, token_hash=hash_token(tokens[i - 1]), issued_at=NOW)
                for i in ids
            ]
        )
    return tokens


async def seed_cashiers(count: int) -> list[str]:
    """``count`` cashier accounts (not members). Returns their Telegram user ids."""
    users = []
    for k in range(1, count + 1):
        user = str(CASHIER_IDS + k)
        account = await ChannelAccount.create(
            channel="telegram",
            external_id=user,
            chat_id=user,
            display_name=f"Thu ngân {k}",
            language="vi",
        )
        await StaffMember.create(account_id=account.id, role=CASHIER)
        users.append(user)
    return users


def _confirm_action(replies: list[Reply]) -> str:
    for reply in replies:
        for row in reply.buttons:
            for button in row:
                if button.action.endswith(":ok"):
                    return button.action
    raise AssertionError(f"no confirm button in {replies}")


async def purchase(shop: Shop, cashier: str, token: str, amount: int) -> list[float]:
    """One purchase as a cashier records it. Returns the milliseconds of each step."""

    async def send(text: str = "", action: str | None = None) -> tuple[list[Reply], float]:
        incoming = Incoming(
            channel="telegram",
            user_id=cashier,
            chat_id=cashier,
            text=text,
            action=action,
            language_hint="vi",
            display_name=f"Thu ngân {cashier}",
        )
        started = time.perf_counter()
        replies = await handle(incoming, shop)
        return replies, (time.perf_counter() - started) * 1000

    replies, scan_ms = await send(text=f"/start {CARD_PREFIX}{token}")
    assert replies[0].text.startswith("👤"), replies[0].text
    replies, amount_ms = await send(text=str(amount))
    action = _confirm_action(replies)
    replies, confirm_ms = await send(action=action)
    assert replies[0].text.startswith("✅"), replies[0].text
    return [scan_ms, amount_ms, confirm_ms]


async def run(
    shop: Shop, cashiers: list[str], jobs: Iterator[tuple[str, int]], timings: Timings | None
) -> None:
    """Every cashier takes the next job from ``jobs`` until there are none left."""

    async def cashier_loop(cashier: str) -> None:
        for token, amount in jobs:
            started = time.perf_counter()
            steps = await purchase(shop, cashier, token, amount)
            elapsed = (time.perf_counter() - started) * 1000
            if timings is not None:
                timings.purchase.append(elapsed)
                for step, ms in zip(STEPS, steps, strict=True):
                    timings.steps[step].append(ms)

    await asyncio.gather(*(cashier_loop(cashier) for cashier in cashiers))


def _jobs(tokens: list[str], count: int, rng: random.Random) -> Iterator[tuple[str, int]]:
    """``count`` purchases: a random member's card and a bill of 20.000 ₫ to 500.000 ₫."""
    for _ in range(count):
        yield rng.choice(tokens), rng.randrange(20, 501) * 1000


async def verify(expected: int) -> tuple[int, int]:
    """Every purchase was recorded once and the cached balances agree with the ledger."""
    purchases = await Purchase.all().count()
    assert purchases == expected, f"{purchases} purchase rows, {expected} purchases made"
    balances = await Customer.all().annotate(total=Sum("points_balance")).first().values("total")
    ledger = await LedgerEntry.all().annotate(total=Sum("points")).first().values("total")
    earned = await Purchase.all().annotate(total=Sum("points")).first().values("total")
    balance_sum = int((balances or {}).get("total") or 0)
    ledger_sum = int((ledger or {}).get("total") or 0)
    assert balance_sum == ledger_sum, f"balances {balance_sum} != ledger {ledger_sum}"
    assert ledger_sum == int((earned or {}).get("total") or 0), "ledger != purchases' points"
    return purchases, ledger_sum


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database URL (default: a new SQLite file)")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--purchases", type=int, default=1_000, help="measured purchases")
    parser.add_argument("--warmup", type=int, default=50, help="purchases before measuring")
    parser.add_argument("--concurrency", type=int, default=1, help="cashiers working at once")
    args = parser.parse_args()
    shop = Shop(name="Bench Café", bot_username="BenchBot", clock=lambda: NOW)
    rng = random.Random(7)
    timings = Timings()
    async with fresh_database(args.database) as url:
        started = time.perf_counter()
        tokens = await seed_members(args.members, rng)
        cashiers = await seed_cashiers(args.concurrency)
        seeded = time.perf_counter() - started
        await run(shop, cashiers, _jobs(tokens, args.warmup, rng), None)
        started = time.perf_counter()
        await run(shop, cashiers, _jobs(tokens, args.purchases, rng), timings)
        total = time.perf_counter() - started
        recorded, points = await verify(args.warmup + args.purchases)
    backend = url.split("://")[0]
    made = len(timings.purchase)
    print(f"machine: {machine()}")
    print(
        f"backend: {backend}, members: {args.members}, seeded in {seeded:.1f} s, "
        f"concurrency: {args.concurrency} cashier(s)"
    )
    print(
        f"purchases: {made} after {args.warmup} warm-up, total {total:.2f} s, "
        f"{made / total:.1f} purchases/s"
    )
    p50 = statistics.median(timings.purchase)
    p99 = percentile(sorted(timings.purchase), 0.99)
    print(
        f"per purchase (scan + amount + confirm): p50 {p50:.2f} ms, "
        f"p99 {p99:.2f} ms, max {max(timings.purchase):.2f} ms, "
        f"mean {statistics.fmean(timings.purchase):.2f} ms"
    )
    print(
        "per step p50/p99: "
        + ", ".join(
            f"{step} {statistics.median(timings.steps[step]):.2f}/"
            f"{percentile(sorted(timings.steps[step]), 0.99):.2f} ms"
            for step in STEPS
        )
    )
    print(f"checked: {recorded} purchase rows, balances = ledger = {points} points")


if __name__ == "__main__":
    asyncio.run(main())
