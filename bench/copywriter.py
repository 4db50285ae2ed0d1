"""What an LLM-written campaign costs: model calls, tokens and dollars for a 10,000-member
campaign with the copywriter's cache and without it, and how many drafts per second go through.

The model is the fake OpenAI server (``tests/fakes/openai.py``), so nothing leaves the machine and
nothing is billed. Its token counts are estimates (UTF-8 bytes / 4) and its drafts are written
at once unless ``--latency`` makes it wait, so: the call counts are exact, the tokens and
dollars are estimates at the given prices, and the drafts/s are the copywriter's own overhead
(the real client, the HTTP round trip, the fact guard) with the fake in the same process.

Members are drawn with a fixed seed: languages (85 % Vietnamese), the nightly analysis's
segments in proportions typical of a café, and favourite items by the demo menu's popularity
(no favourite for the 20 % without enough history).

1. *With the cache*: one copywriter for the campaign, every member's ``write`` at once (as
   ``asyncio.gather``); the fake answers after ``--latency`` seconds, like a real model.
2. *Without the cache*: every member drafted separately (each write asks its own ``variant``),
   the fake answering at once: the per-draft cost, and the drafts/s ceiling of the client side.
3. *Templates only* (no key): the fallback's speed.

    .venv/bin/python bench/copywriter.py
    .venv/bin/python bench/copywriter.py --members 2000 --latency 1.0 --seed 3
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from benchkit import machine

from loyalty import segments
from loyalty.copywriter import Copy, Copywriter, LLMConfig, Offer, Traits
from loyalty.demo import MENU

# The fake server lives with the tests (it is test code); this script runs from the repo.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fakes.openai import FakeOpenAI

SHOP = "Quen Café"
OFFER = Offer("campaign", "Giảm 20% cuối tuần", "percent", 20, "", date(2026, 12, 6))
#: Share of members per segment (per mille): many one-visit members, few champions.
SEGMENT_MIX = {
    segments.CHAMPIONS: 60,
    segments.LOYAL: 90,
    segments.POTENTIAL: 110,
    segments.NEW: 150,
    segments.PROMISING: 90,
    segments.ATTENTION: 60,
    segments.SLEEPING: 90,
    segments.AT_RISK: 100,
    segments.CANT_LOSE: 30,
    segments.HIBERNATING: 100,
    segments.LOST: 120,
}
ENGLISH_SHARE = 0.15
NO_FAVOURITE_SHARE = 0.20


@dataclass
class Run:
    name: str
    members: int
    seconds: float
    writer: Copywriter
    copies: list[Copy]

    def report(self, price_in: float, price_out: float) -> None:
        usage = self.writer.usage
        sources = Counter(copy.source for copy in self.copies)
        print(
            f"{self.name}: {self.members} members in {self.seconds:.2f} s "
            f"({self.members / self.seconds:,.0f} writes/s)"
        )
        print(
            f"  model calls {usage.calls:,}, cache hits {usage.cache_hits:,}, "
            f"fallbacks {usage.fallbacks} {usage.failures or ''}"
        )
        if usage.calls:
            print(
                f"  tokens: {usage.prompt_tokens:,} prompt + {usage.completion_tokens:,} "
                f"completion (estimated by the fake) = "
                f"${usage.cost_usd(price_in, price_out):.4f} at ${price_in}/${price_out} per M"
            )
            print(f"  drafts/s: {usage.calls / self.seconds:,.1f}")
        print(f"  copies by source: {dict(sources)}")


def members(count: int, seed: int) -> list[Traits]:
    rng = random.Random(seed)
    kinds, weights = zip(*SEGMENT_MIX.items(), strict=True)
    dishes = [dish.name for dish in MENU]
    popularity = [dish.popularity for dish in MENU]
    drawn = []
    for _ in range(count):
        favourite = (
            None if rng.random() < NO_FAVOURITE_SHARE else rng.choices(dishes, popularity)[0]
        )
        drawn.append(
            Traits(
                language="en" if rng.random() < ENGLISH_SHARE else "vi",
                segment=rng.choices(kinds, weights)[0],
                tier=rng.choice(("member", "silver", "gold", "platinum")),
                favourite_item=favourite,
                usual_hour=rng.choice((None, 7, 8, 12, 15, 19)),
                visits_90d=rng.randrange(40),
                days_since_last=rng.choice((None, rng.randrange(1, 365))),
            )
        )
    return drawn


async def campaign(name: str, config: LLMConfig, people: list[Traits], distinct: bool) -> Run:
    writer = Copywriter(config, shop_name=SHOP)
    started = time.perf_counter()
    copies = await asyncio.gather(
        *(
            writer.write(OFFER, person, variant=index if distinct else 0)
            for index, person in enumerate(people)
        )
    )
    seconds = time.perf_counter() - started
    await writer.close()
    return Run(name, len(people), seconds, writer, list(copies))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--latency", type=float, default=0.8, help="seconds the fake takes per draft (run 1)"
    )
    parser.add_argument("--price-in", type=float, default=LLMConfig().price_in_per_mtok)
    parser.add_argument("--price-out", type=float, default=LLMConfig().price_out_per_mtok)
    args = parser.parse_args()

    people = members(args.members, args.seed)
    briefs = {(p.segment, p.favourite_item, p.language) for p in people}
    print(machine())
    print(
        f"{len(people):,} members (seed {args.seed}): {len(briefs)} distinct "
        f"(segment, favourite item, language) briefs"
    )
    async with FakeOpenAI() as fake:
        config = LLMConfig(api_key=fake.api_key, base_url=fake.base_url, timeout=20.0)
        fake.delay = args.latency
        cached = await campaign(
            f"1. with the cache, model latency {args.latency:g} s", config, people, False
        )
        fake.delay = 0.0
        uncached = await campaign("2. without the cache, no latency", config, people, True)
    templates = await campaign("3. templates only (no key)", LLMConfig(), people, False)
    for run in (cached, uncached, templates):
        run.report(args.price_in, args.price_out)
    with_cache, without = cached.writer.usage, uncached.writer.usage
    print(
        f"the cache: {with_cache.calls:,} model calls instead of {without.calls:,}, "
        f"${with_cache.cost_usd(args.price_in, args.price_out):.4f} instead of "
        f"${without.cost_usd(args.price_in, args.price_out):.4f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
