"""The background worker that turns approved campaigns into vouchers and queued messages.

Approving answers the owner at once; drafting thousands of messages and issuing their vouchers
happens here, a batch at a time (``loyalty.campaigns.prepare``). The worker looks for approved
campaigns when nudged (after each chat message) and every ``POLL`` seconds, so a campaign
approved just before a crash or in another process is picked up without anyone asking. With
several processes, each campaign is prepared by one of them at a time: the worker claims it for
``LEASE`` and renews the claim after every batch, so a worker that dies frees it soon.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from prometheus_client import Counter

from loyalty import campaigns
from loyalty.voice import Voice
from models.db import log_failure

log = logging.getLogger(__name__)

POLL = 30.0
#: How long a claim on a campaign lasts without renewal (a batch takes seconds).
LEASE = timedelta(minutes=2)

#: Members whose message (and voucher) a campaign worker queued, for ``/metrics``.
MEMBERS_PREPARED = Counter(
    "quen_campaign_members_prepared", "Campaign members whose message and voucher were prepared"
)


class CampaignPreparer:
    def __init__(
        self,
        voice: Callable[[], Voice],
        clock: Callable[[], datetime],
        zone: ZoneInfo,
        prepared: Callable[[], None],
    ) -> None:
        self._voice = voice
        self._clock = clock
        self._zone = zone
        self._prepared = prepared
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.worker = f"{socket.gethostname()[:24]}:{os.getpid()}:{id(self) % 10_000}"

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def nudge(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Let the round in progress finish, then stop. Each batch of a campaign is one
        transaction, so a caller that gives up waiting (and so cancels this) loses at most the
        batch being written, which the next start prepares again."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def prepare_waiting(self) -> int:
        """Prepare every approved campaign; returns the messages queued. A campaign that fails
        (the database went away) is logged and tried again on the next round."""
        queued = 0
        for campaign_id in await campaigns.waiting_for_preparation():
            if not await self._claim(campaign_id):
                continue  # another process is preparing it
            writer = self._voice().writer()
            try:
                queued += await campaigns.prepare(
                    campaign_id,
                    writer,
                    self._clock(),
                    self._zone,
                    still_mine=partial(self._claim, campaign_id),
                )
            except Exception:
                log_failure(log, "campaign #%d: preparing failed, trying again later", campaign_id)
                await campaigns.release_preparation(campaign_id, self.worker)
            finally:
                await writer.close()
        if queued:
            MEMBERS_PREPARED.inc(queued)
            self._prepared()
        return queued

    async def _claim(self, campaign_id: int) -> bool:
        now = self._clock()
        return await campaigns.claim_preparation(campaign_id, self.worker, now, now + LEASE)

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL)
            self._wake.clear()
            if self._stopping:
                return
            try:
                await self.prepare_waiting()
            except Exception:
                log_failure(log, "campaign worker: could not look for approved campaigns")
