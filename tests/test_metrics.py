"""``GET /metrics`` on the running application: counters move by exactly the traffic, the queue
gauge is read from the database, the text parses as Prometheus's format, and a token guards it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from bot.app import QuenApp
from bot.settings import TelegramMode
from handlers.types import Shop
from loyalty import campaigns, outbox
from scheduler import jobs
from scheduler.campaigns import CampaignPreparer
from tests.chat import Chat
from tests.conftest import FakeClock
from tests.fakes.telegram import FakeTelegram, TgUser
from tests.pos import bill, open_shop
from tests.test_campaigns import OWNER_ID, draft_campaign, owner_staff, seed_members
from tests.test_e2e_outbox import FIRST_CHAT, draft, members, settled, until
from tests.test_e2e_telegram import settings_for

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
VISITOR = TgUser(5_200_000_001, "Minh", language_code="vi")


async def scrape(base: str, token: str | None = None) -> tuple[int, str, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{base}/metrics", headers=headers) as response,
    ):
        return response.status, response.headers["Content-Type"], await response.text()


def samples(text: str) -> Samples:
    """Every sample by name and labels; parsing it is the format check."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


@pytest_asyncio.fixture
async def quen(db: str, fake: FakeTelegram, clock: FakeClock) -> AsyncIterator[QuenApp]:
    settings = settings_for(fake, db, TelegramMode.POLLING)
    app = QuenApp(settings, clock)
    await app.start()
    await app.caught_up()  # the start-up's replay of missed jobs would count in the middle
    yield app
    await app.stop()


async def test_counters_move_by_the_traffic_and_the_output_parses(
    quen: QuenApp, fake: FakeTelegram, clock: FakeClock
) -> None:
    base = f"http://127.0.0.1:{quen.http_port}"
    status, content_type, text = await scrape(base)
    assert status == 200 and content_type == "text/plain; version=0.0.4; charset=utf-8"
    before = samples(text)
    assert value(before, "process_start_time_seconds") > 0

    # Chat: one message handled.
    fake.push_text(VISITOR, "/start")
    await until(lambda: _answered(fake), seconds=10)
    # Outbox: two delivered, one to a member who blocked the bot, one still waiting (tomorrow).
    lan, binh, chi, dung = await members(4)
    fake.block(TgUser(FIRST_CHAT + 2, "Chi"))
    for person, key in ((lan, "a"), (binh, "b"), (chi, "c")):
        await outbox.to_member(person.id, draft(key), clock.now)
    lines = [("notice-tier-up", {"tier": outbox.tier("gold")})]
    later = outbox.Draft("test", "d", lines, not_before=clock.now + timedelta(days=1))
    await outbox.to_member(dung.id, later, clock.now)
    quen.sender.nudge()
    await until(lambda: settled(3), seconds=10)
    # POS API: a purchase, a lookup of nobody, and a request without a key.
    shop = await open_shop(clock, base)
    try:
        assert (await shop.purchase(bill()))[0] == 201
        assert (await shop.call("GET", "/api/v1/members/lookup?phone=0900000000"))[0] == 404
        async with shop.http.get("/api/v1/members/lookup?phone=1") as response:
            assert response.status == 401
    finally:
        await shop.http.close()
    # A scheduled job's run, for a day the start-up catch-up did not take.
    zone, month_ago = quen.settings.zone, (clock.now - timedelta(days=30)).date()
    assert await jobs.run(jobs.EXPIRE_VOUCHERS, clock.now, zone, quen.shop.voice(), month_ago)

    after = samples((await scrape(base))[2])

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("quen_updates_handled_total", channel="telegram", outcome="ok") == 1
    assert moved("quen_messages_sent_total", channel="telegram", outcome="sent") == 2
    assert moved("quen_messages_sent_total", channel="telegram", outcome="unreachable") == 1
    assert value(after, "quen_outbox_messages", status="queued") == 1
    assert value(after, "quen_outbox_messages", status="claimed") == 0
    assert moved("quen_api_requests_total", route="/api/v1/purchases", status="201") == 1
    lookup = "/api/v1/members/lookup"
    assert moved("quen_api_requests_total", route=lookup, status="404") == 1
    assert moved("quen_api_requests_total", route=lookup, status="401") == 1
    assert moved("quen_job_runs_total", job=jobs.EXPIRE_VOUCHERS, outcome="vouchers") == 1


async def _answered(fake: FakeTelegram) -> bool:
    return VISITOR.id in fake.delivered_counts()


async def test_a_token_guards_the_metrics(db: str, fake: FakeTelegram, clock: FakeClock) -> None:
    settings = settings_for(fake, db, TelegramMode.POLLING).model_copy(
        update={"metrics_token": SecretStr("s3cret-metrics")}
    )
    app = QuenApp(settings, clock)
    await app.start()
    try:
        base = f"http://127.0.0.1:{app.http_port}"
        assert (await scrape(base))[0] == 401
        assert (await scrape(base, "wrong"))[0] == 401
        status, _, text = await scrape(base, "s3cret-metrics")
        assert status == 200 and "quen_outbox_messages" in text
    finally:
        await app.stop()


async def test_campaign_members_prepared_are_counted(db: str, shop: Shop) -> None:
    from dataclasses import replace

    from prometheus_client import REGISTRY

    owner_shop = replace(shop, owners=frozenset({("telegram", OWNER_ID)}))
    now = owner_shop.clock()
    await seed_members(30)
    owner = await owner_staff(Chat(owner_shop, user_id=OWNER_ID))
    campaign = await campaigns.approve((await draft_campaign(owner, now)).id, now)
    name = "quen_campaign_members_prepared_total"
    before = REGISTRY.get_sample_value(name) or 0.0
    worker = CampaignPreparer(owner_shop.voice, owner_shop.clock, owner_shop.zone, lambda: None)
    queued = await worker.prepare_waiting()
    assert queued == campaign.members_send > 0
    assert REGISTRY.get_sample_value(name) == before + queued
