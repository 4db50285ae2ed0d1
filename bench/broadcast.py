"""A 10,000-message broadcast through a fake Bot API that enforces Telegram's flood limits
(HTTP 429 past 30 messages/s overall or 1/s to one chat), sent two ways:

1. Quen's outbox sender (``QUEN_SEND_RATE``, 25/s by default), inside the real application;
2. what many bots do: python-telegram-bot's ``AIORateLimiter`` and one ``send_message`` task per
   member, all started at once.

For each: messages/second achieved (and as a share of the configured pace), 429 answers,
duplicates (a chat that got the message twice) and losses (a member who got nothing).

    .venv/bin/python bench/broadcast.py
    .venv/bin/python bench/broadcast.py --messages 2000 --rate 25
    .venv/bin/python bench/broadcast.py --database postgres://postgres@127.0.0.1:5432/quen_bench_broadcast

The PostgreSQL database is emptied (public schema dropped) before seeding.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from benchkit import fresh_database, machine
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application

from bot.app import QuenApp
from bot.settings import Settings
from models.members import ChannelAccount, Customer
from models.outbox import OutboxMessage

# The fake Bot API lives with the tests (it is test code); this script runs from the repo.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fakes.telegram import FakeTelegram

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 in Hồ Chí Minh City: the window is open
FIRST_CHAT = 6_000_000_000
TEXT = "🎉 Cà Phê Quen: giảm 20% cho mọi đồ uống cuối tuần này."


async def seed(count: int) -> None:
    """``count`` members with consent, a chat each, and one queued offer each."""
    for start in range(0, count, 1000):
        size = min(1000, count - start)
        await Customer.bulk_create(
            [Customer(display_name=f"K{start + i}", marketing_consent=True) for i in range(size)]
        )
    ids = await Customer.all().order_by("id").values_list("id", flat=True)
    await ChannelAccount.bulk_create(
        [
            ChannelAccount(
                channel="telegram",
                external_id=str(FIRST_CHAT + i),
                chat_id=str(FIRST_CHAT + i),
                customer_id=customer_id,
                language="vi",
            )
            for i, customer_id in enumerate(ids)
        ],
        batch_size=1000,
    )
    accounts = await ChannelAccount.all().order_by("id").values_list("id", "customer_id")
    await OutboxMessage.bulk_create(
        [
            OutboxMessage(
                account_id=account_id,
                customer_id=customer_id,
                kind="campaign",
                marketing=True,
                dedupe_key="bench-offer",
                payload={"lines": [["notice-tier-up", {"tier": {"$tier": "gold"}}]]},
                created_at=NOW,
                not_before=NOW,
            )
            for account_id, customer_id in accounts
        ],
        batch_size=1000,
    )


def tally(fake: FakeTelegram, count: int, seconds: float, rate: float) -> dict[str, float]:
    delivered = fake.delivered_counts()
    return {
        "sent": sum(delivered.values()),
        "seconds": seconds,
        "per_second": sum(delivered.values()) / seconds,
        "share_of_pace": sum(delivered.values()) / seconds / rate,
        "429s": fake.flood_rejections,
        "duplicates": sum(1 for n in delivered.values() if n > 1),
        "lost": sum(1 for i in range(count) if delivered.get(FIRST_CHAT + i, 0) == 0),
    }


async def quen_sender(database: str | None, count: int, rate: float) -> dict[str, float]:
    async with fresh_database(database) as url:
        await seed(count)
        async with FakeTelegram(flood_limits=True) as fake:
            settings = Settings(
                database_url=url,
                telegram_token=fake.token,
                telegram_api_url=fake.root,
                http_port=0,
                send_rate=rate,
            )
            app = QuenApp(settings, lambda: NOW)
            started = time.perf_counter()
            await app.start()
            try:
                pending = ("queued", "claimed", "sending")
                while True:
                    if not await OutboxMessage.filter(status__in=pending).exists():
                        break
                    await asyncio.sleep(0.2)
                seconds = time.perf_counter() - started
            finally:
                await app.stop()
            statuses = Counter(await OutboxMessage.all().values_list("status", flat=True))
            print(f"  outbox rows: {dict(statuses)}")
            return tally(fake, count, seconds, rate)


async def ptb_rate_limiter(count: int) -> dict[str, float]:
    """One task per member, paced only by ``AIORateLimiter`` (30/s overall by default)."""
    async with FakeTelegram(flood_limits=True) as fake:
        application = (
            Application.builder()
            .token(fake.token)
            .base_url(f"{fake.root}/bot")
            .rate_limiter(AIORateLimiter())
            .updater(None)
            .build()
        )
        async with application:
            started = time.perf_counter()
            results = await asyncio.gather(
                *(application.bot.send_message(FIRST_CHAT + i, TEXT) for i in range(count)),
                return_exceptions=True,
            )
            seconds = time.perf_counter() - started
        errors = Counter(type(r).__name__ for r in results if isinstance(r, TelegramError))
        print(f"  errors raised to the caller: {dict(errors) or 'none'}")
        return tally(fake, count, seconds, 30.0)


def show(name: str, figures: dict[str, float]) -> None:
    print(
        f"{name}: {int(figures['sent'])} delivered in {figures['seconds']:.1f} s = "
        f"{figures['per_second']:.2f} msg/s ({figures['share_of_pace'] * 100:.1f}% of its pace), "
        f"{int(figures['429s'])} × 429, {int(figures['duplicates'])} duplicates, "
        f"{int(figures['lost'])} lost"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=25.0, help="Quen's QUEN_SEND_RATE")
    parser.add_argument("--database", help="PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument("--skip-ptb", action="store_true", help="only run Quen's sender")
    args = parser.parse_args()
    # AIORateLimiter logs every 429 with a traceback; the figures below count them.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    print(machine())
    print(f"{args.messages} messages, {args.database or 'SQLite'}")
    show(
        f"Quen outbox sender (pace {args.rate:g}/s)",
        await quen_sender(args.database, args.messages, args.rate),
    )
    if not args.skip_ptb:
        show(
            "PTB AIORateLimiter, one task per member (pace 30/s)",
            await ptb_rate_limiter(args.messages),
        )


if __name__ == "__main__":
    asyncio.run(main())
