"""Start-up and shut-down of one Quen process: database, scheduler, HTTP server, Telegram.

``QuenApp`` does not own the database connection, so the tests can run the real application on the
database their fixtures prepared; ``serve`` is what ``quen run`` calls and owns everything.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from pathlib import Path

from aiohttp import web
from PIL import Image

from bot.api import build_api_app
from bot.cashier_web import install_cashier
from bot.delivery import Channel
from bot.logs import logging_fields
from bot.metrics import UPDATES, install_metrics
from bot.sender import OutboxSender
from bot.settings import Settings, TelegramMode
from bot.telegram import TelegramChannel
from bot.web import build_web_app
from bot.zalo import ZaloChannel
from handlers.router import handle
from handlers.types import Incoming, Reply, Shop
from locales import t
from loyalty import outbox
from loyalty.tiers import ensure_default_tiers
from loyalty.voucher_card import load_logo
from models.db import close_database, open_database
from scheduler.campaigns import CampaignPreparer
from scheduler.jobs import build_scheduler, catch_up

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@cache
def _logo(path: Path) -> Image.Image:
    """Loaded once: voucher card templates are cached by the logo object's identity."""
    return load_logo(path)


def shop_for(
    settings: Settings, bot_username: str, clock: Callable[[], datetime] = _utc_now
) -> Shop:
    return Shop(
        name=settings.shop_name,
        bot_username=bot_username,
        default_language=settings.default_language,
        zone=settings.zone,
        clock=clock,
        owners=frozenset(("telegram", str(owner)) for owner in settings.owner_telegram_ids),
        logo=_logo(settings.logo_path) if settings.logo_path else None,
        marketing_hold=settings.marketing_policy().problem,
        tone=settings.shop_tone,
        llm=settings.llm(),
    )


class QuenApp:
    """Everything a running bot needs, except the database connection."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime] = _utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.shop = shop_for(settings, settings.bot_username, clock)
        self.telegram: TelegramChannel | None = None
        if settings.telegram_token is not None:
            self.telegram = TelegramChannel(settings, self.handle, clock)
        self.zalo: ZaloChannel | None = None
        if settings.zalo_enabled:
            self.zalo = ZaloChannel(settings, self.handle, clock)
        self.scheduler = build_scheduler(settings.zone, clock, lambda: self.shop.voice())
        channels: dict[str, Channel] = {}
        if self.telegram is not None:
            channels[self.telegram.name] = self.telegram
        if self.zalo is not None:
            channels[self.zalo.name] = self.zalo
        self.sender = OutboxSender(
            channels,
            lambda: self.shop,
            settings.marketing_policy(),
            clock,
            rate=settings.send_rate,
            lease=timedelta(seconds=settings.outbox_lease_seconds),
        )
        self.campaigns = CampaignPreparer(
            lambda: self.shop.voice(), clock, settings.zone, self.sender.nudge
        )
        #: Set when stopping: the HTTP server turns new requests away (``bot.web``).
        self.draining = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._catching_up: asyncio.Task[list[str]] | None = None
        self.http_port: int | None = None

    async def handle(self, incoming: Incoming) -> list[Reply]:
        with logging_fields(update=incoming.event_id):
            try:
                replies = await handle(incoming, self.shop)
            except Exception:
                UPDATES.labels(channel=incoming.channel, outcome="error").inc()
                raise
        UPDATES.labels(channel=incoming.channel, outcome="ok").inc()
        self.sender.nudge()  # a purchase or a redemption may have queued a notice
        self.campaigns.nudge()  # or an owner approved a campaign
        return replies

    async def start(self) -> None:
        await ensure_default_tiers()
        self.scheduler.start()
        self.campaigns.start()
        # The memory job store forgets runs missed while we were down: replay them (once).
        self._catching_up = asyncio.create_task(
            catch_up(self.settings.zone, self.clock(), self.shop.voice())
        )
        secret = self.settings.webhook_secret
        webhook = self.telegram if self.settings.telegram_mode is TelegramMode.WEBHOOK else None
        if self.zalo is not None:
            await self.zalo.start()
        api = build_api_app(
            clock=self.clock,
            zone=self.settings.zone,
            rate_per_minute=self.settings.api_rate_per_minute,
            on_change=self.sender.nudge,
        )
        app = build_web_app(
            webhook, secret.get_secret_value() if secret else None, self.zalo, api, self.draining
        )
        install_cashier(app, self.settings, lambda: self.shop, self.sender.nudge)
        metrics_token = self.settings.metrics_token
        install_metrics(app, metrics_token.get_secret_value() if metrics_token else None)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.http_host, self.settings.http_port)
        await site.start()
        self.http_port = self._runner.addresses[0][1]
        log.info("http: listening on %s:%s", self.settings.http_host, self.http_port)
        if self.telegram is None:
            print(t(self.settings.default_language, "setup-no-token"), flush=True)
        else:
            await self.telegram.start()
            # The card's deep link must name the bot people actually talk to.
            self.shop = shop_for(self.settings, self.telegram.username, self.clock)
        if self.sender.channels:
            self.sender.start()

    async def caught_up(self) -> None:
        """Wait for the start-up replay of missed jobs (``catch_up``) to finish."""
        if self._catching_up is not None:
            await self._catching_up

    async def stop(self) -> None:
        """Stop gracefully within ``QUEN_SHUTDOWN_TIMEOUT``: take no new work, finish the work
        in hand, put back what was claimed and not started. Past the timeout, what is still
        running is cancelled and left to recovery, exactly as after a crash."""
        self.draining.set()  # from now on webhooks and /healthz answer 503
        try:
            async with asyncio.timeout(self.settings.shutdown_timeout):
                await self._wind_down()
        except TimeoutError:
            log.warning(
                "shutdown: not finished within %g s; cancelling the rest",
                self.settings.shutdown_timeout,
            )
            self.sender.abandon()
            await outbox.release(self.sender.worker)
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)

    async def _wind_down(self) -> None:
        """Intake, background work and the sender stop together, at once: a sender still
        starting messages while a slow update is answered would start work the shutdown then
        has to wait for. What a late handler or job queues waits for the next process. The
        channels' HTTP clients close last: the sender's last messages still need them."""
        await asyncio.gather(self._stop_updates(), self._stop_background(), self.sender.stop())
        if self._runner is not None:
            await self._runner.cleanup()
        if self.telegram is not None:
            await self.telegram.stop()
        if self.zalo is not None:
            await self.zalo.stop()
        log.info("shutdown: finished")

    async def _stop_updates(self) -> None:
        """No more updates; the ones received are handled (webhooks already answer 503)."""
        if self.telegram is not None:
            await self.telegram.stop_updates()
        if self.zalo is not None:
            await self.zalo.idle()

    async def _stop_background(self) -> None:
        try:
            await self.caught_up()
        except Exception:  # logged by the jobs; the rest of the shutdown must still happen
            log.warning("shutdown: the start-up catch-up had failed", exc_info=True)
        await self.scheduler.finish()
        await self.campaigns.stop()


async def serve(settings: Settings) -> None:
    """``quen run``: migrate, start, and run until SIGINT or SIGTERM."""
    await open_database(settings.database_url)
    app = QuenApp(settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, partial(stopping.set))
    try:
        await app.start()
        await stopping.wait()
    finally:
        await app.stop()
        await close_database()
