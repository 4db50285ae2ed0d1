"""Purchases per second and their latency through the POS API, with 50 concurrent clients.

Seeds 10,000 members (as ``purchases_rate.py`` does: a phone, a chat account and a card each), one
store and its API key, then starts a real ``quen run`` process on 127.0.0.1 (so the server has its
own process and event loop, as in production) and lets ``--clients`` HTTP clients post purchases
(``POST /api/v1/purchases`` with a member's card token and a fresh ``Idempotency-Key``) from one
shared queue. Each request is timed from send to the parsed answer. Every answer must be 201; at
the end the purchase rows are counted and cached balances checked against the ledger.

    .venv/bin/python bench/pos_api.py                    # SQLite file in a temp folder
    .venv/bin/python bench/pos_api.py --database postgres://postgres@127.0.0.1:5432/quen_bench_pos

The PostgreSQL database is emptied (public schema dropped) before seeding: give it a database no
other benchmark is using at the same time. The server logs at WARNING (one INFO line per request
would be measured too).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from benchkit import fresh_database, machine, percentile
from purchases_rate import seed_members, verify

from loyalty import api_keys
from models.staff import Store

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def start_server(url: str, port: int, folder: Path) -> asyncio.subprocess.Process:
    """``quen run`` on the seeded database; returns once ``/healthz`` answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEN_")}
    env |= {
        "QUEN_DATABASE_URL": url,
        "QUEN_HTTP_PORT": str(port),
        "QUEN_API_RATE_PER_MINUTE": "1000000",
        "QUEN_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=folder,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
    )
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return server
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    server.terminate()
    raise RuntimeError("quen run did not start")


async def run(
    base: str, key: str, clients: int, jobs: Iterator[tuple[int, str, int]], latencies: list[float]
) -> None:
    """``clients`` concurrent connections, each posting the next purchase until none are left."""
    connector = aiohttp.TCPConnector(limit=clients)
    headers = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession(base, connector=connector, headers=headers) as http:

        async def client() -> None:
            for n, token, amount in jobs:
                body = {"card_token": token, "amount_vnd": amount, "receipt_id": f"B-{n}"}
                started = time.perf_counter()
                async with http.post(
                    "/api/v1/purchases", json=body, headers={"Idempotency-Key": f"bench-{n}"}
                ) as response:
                    answer = await response.json()
                    assert response.status == 201, answer
                latencies.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(client() for _ in range(clients)))


def _jobs(
    tokens: list[str], first: int, count: int, rng: random.Random
) -> Iterator[tuple[int, str, int]]:
    for n in range(first, first + count):
        yield n, rng.choice(tokens), rng.randrange(20, 501) * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database URL (default: a new SQLite file)")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--purchases", type=int, default=2_000, help="measured purchases")
    parser.add_argument("--warmup", type=int, default=100, help="purchases before measuring")
    parser.add_argument("--clients", type=int, default=50, help="concurrent HTTP clients")
    args = parser.parse_args()
    rng = random.Random(7)
    latencies: list[float] = []
    async with fresh_database(args.database) as url:
        tokens = await seed_members(args.members, rng)
        store = await Store.create(name="Bench")
        new = await api_keys.create_key(
            store.id, name="bench", actor_account_id=None, at=datetime.now(UTC)
        )
        port = _free_port()
        folder = Path(url.removeprefix("sqlite://")).parent if url.startswith("sqlite") else ROOT
        server = await start_server(url, port, folder)
        try:
            base = f"http://127.0.0.1:{port}"
            await run(base, new.secret, args.clients, _jobs(tokens, 0, args.warmup, rng), [])
            started = time.perf_counter()
            jobs = _jobs(tokens, args.warmup, args.purchases, rng)
            await run(base, new.secret, args.clients, jobs, latencies)
            total = time.perf_counter() - started
        finally:
            server.terminate()
            await server.wait()
        recorded, points = await verify(args.warmup + args.purchases)
    ordered = sorted(latencies)
    print(f"machine: {machine()}")
    print(f"backend: {url.split('://')[0]}, members: {args.members}, clients: {args.clients}")
    print(
        f"purchases: {len(latencies)} after {args.warmup} warm-up, total {total:.2f} s, "
        f"{len(latencies) / total:.1f} purchases/s"
    )
    print(
        f"per request: p50 {statistics.median(ordered):.1f} ms, "
        f"p99 {percentile(ordered, 0.99):.1f} ms, max {ordered[-1]:.1f} ms"
    )
    print(f"checked: {recorded} purchase rows, balances = ledger = {points} points")


if __name__ == "__main__":
    asyncio.run(main())
