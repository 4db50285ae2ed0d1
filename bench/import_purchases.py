"""How fast ``quen import purchases`` takes a year of till history (``loyalty.importer``).

Writes a synthetic till export into a temp folder: ``--customers`` customers (default 100,000),
``--rows`` purchases (default 1,000,000) over the year before the import, in time order, at café
hours (6:00-22:00, busiest at breakfast, mid-afternoon and evening), a few regulars buying often
and most people rarely. Six customers in ten have a till id (half of them with a phone as well),
the others only a phone, written the ways exports write Vietnamese mobiles (``0912345678``,
``0912 345 678``, ``+84912345678``). Amounts are in thousands of ₫, items one to three drinks or
dishes. The file is then imported into a fresh database and the import timed: rows/s, total
seconds (the file's survey pass included) and the process's peak RSS. ``--again`` times a second
import of the same file (everything a duplicate). Purchases and members are counted afterwards,
so a lost row cannot pass for a fast one.

    .venv/bin/python bench/import_purchases.py                  # SQLite file in a temp folder
    .venv/bin/python bench/import_purchases.py --rows 100000
    .venv/bin/python bench/import_purchases.py --database postgres://postgres@127.0.0.1:5432/quen_bench

The PostgreSQL database is emptied (public schema dropped) first: give it a database of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import csv
import random
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from zoneinfo import ZoneInfo

from benchkit import fresh_database, machine

from loyalty.importer import Columns, ImportReport, import_purchases
from models.members import Customer
from models.purchases import Purchase

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
COLUMNS = Columns(
    date="Ngày",
    amount="Tổng (nghìn ₫)",
    customer="Mã KH",
    phone="SĐT",
    items="Món",
    amount_scale=1000,
)
HEADER = ["Ngày", "Mã KH", "SĐT", "Tổng (nghìn ₫)", "Món"]
#: Mobile prefixes the carriers use (2026), without the leading 0.
PREFIXES = (
    "90",
    "91",
    "93",
    "94",
    "96",
    "97",
    "98",
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "38",
    "39",
    "70",
    "76",
    "77",
    "78",
    "79",
    "81",
    "82",
    "83",
    "84",
    "85",
    "86",
    "88",
    "56",
    "58",
    "59",
)
MENU = (
    ("Cà phê đen", 25),
    ("Cà phê sữa đá", 29),
    ("Bạc xỉu", 35),
    ("Trà đào cam sả", 45),
    ("Trà sữa trân châu", 42),
    ("Sinh tố bơ", 49),
    ("Nước ép cam", 39),
    ("Bánh mì thịt", 30),
    ("Bánh flan", 20),
    ("Croissant", 38),
    ("Cà phê muối", 39),
    ("Matcha latte", 55),
)
#: Relative number of purchases in each hour of the day (06:00 to 21:00).
HOURS = {
    6: 4,
    7: 10,
    8: 12,
    9: 9,
    10: 6,
    11: 5,
    12: 5,
    13: 5,
    14: 7,
    15: 8,
    16: 7,
    17: 5,
    18: 6,
    19: 8,
    20: 7,
    21: 4,
}


def _phone(number: int, rng: random.Random) -> str:
    """A distinct valid Vietnamese mobile for each ``number``, in one of the usual spellings."""
    digits = PREFIXES[number % len(PREFIXES)] + f"{number * 7919 % 10_000_000:07d}"
    style = rng.randrange(3)
    if style == 0:
        return "0" + digits
    if style == 1:
        return f"0{digits[:3]} {digits[3:6]} {digits[6:]}"
    return "+84" + digits


def _customers(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(till id, phone) per customer, either possibly empty, never both."""
    people = []
    for number in range(1, count + 1):
        kind = number % 10
        till_id = f"KH{number:06d}" if kind < 6 else ""
        phone = _phone(number, rng) if kind >= 3 else ""
        people.append((till_id, phone))
    return people


def write_export(path: Path, rows: int, customers: int, seed: int) -> None:
    """The synthetic export, streamed day by day (so the generator needs little memory)."""
    rng = random.Random(seed)
    people = _customers(customers, rng)
    # A few regulars, many occasional customers: weight 1 / rank^0.9.
    weights = list(accumulate(1 / (rank**0.9) for rank in range(1, customers + 1)))
    hours, hour_weights = list(HOURS), list(accumulate(HOURS.values()))
    first_day = (NOW.astimezone(ZONE) - timedelta(days=365)).date()
    with path.open("w", encoding="utf-8", newline="") as target:
        writer = csv.writer(target)
        writer.writerow(HEADER)
        for day in range(365):
            date = first_day + timedelta(days=day)
            count = rows * (day + 1) // 365 - rows * day // 365
            moments = sorted(
                (rng.choices(hours, cum_weights=hour_weights)[0], rng.randrange(60))
                for _ in range(count)
            )
            for hour, minute in moments:
                customer = bisect.bisect_left(weights, rng.random() * weights[-1])
                till_id, phone = people[min(customer, customers - 1)]
                items = rng.sample(MENU, rng.choice((1, 1, 2, 2, 3)))
                writer.writerow(
                    [
                        f"{date:%Y-%m-%d} {hour:02d}:{minute:02d}",
                        till_id,
                        phone,
                        sum(price for _, price in items),
                        ";".join(name for name, _ in items),
                    ]
                )


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _line(label: str, report: ImportReport) -> str:
    return (
        f"{label}: {report.rows:,} rows in {report.seconds:.1f} s, "
        f"{report.rows / report.seconds:,.0f} rows/s "
        f"(imported {report.imported:,}, duplicates {report.duplicates:,}, "
        f"rejected {report.rejected:,}, new members {report.new_members:,}, "
        f"linked {report.linked_members:,})"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database URL (default: a new SQLite file)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--again", action="store_true", help="time a second import of the file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        export = Path(folder) / "till-export.csv"
        started = time.perf_counter()
        write_export(export, args.rows, args.customers, args.seed)
        generated = time.perf_counter() - started
        rss_before = _peak_rss_mb()
        async with fresh_database(args.database) as url:
            reports = [
                await import_purchases(
                    export, COLUMNS, zone=ZONE, now=NOW, batch_size=args.batch_size
                )
            ]
            if args.again:
                reports.append(
                    await import_purchases(
                        export, COLUMNS, zone=ZONE, now=NOW, batch_size=args.batch_size
                    )
                )
            purchases = await Purchase.all().count()
            members = await Customer.all().count()
        size_mb = export.stat().st_size / 2**20
    first = reports[0]
    assert first.rejected == 0, f"{first.rejected} rows rejected"
    assert purchases == first.imported == args.rows, f"{purchases} purchase rows"
    assert members == first.new_members, f"{members} members, {first.new_members} created"
    print(f"machine: {machine()}")
    print(
        f"backend: {url.split('://')[0]}, export: {args.rows:,} rows, {args.customers:,} "
        f"customers, {size_mb:.0f} MB, generated in {generated:.1f} s, "
        f"batch size {args.batch_size}"
    )
    print(_line("import", first))
    if args.again:
        print(_line("again", reports[1]))
    print(
        f"peak RSS: {_peak_rss_mb():.0f} MB (after writing the export: {rss_before:.0f} MB); "
        f"checked: {purchases:,} purchases, {members:,} members"
    )


if __name__ == "__main__":
    asyncio.run(main())
