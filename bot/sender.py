"""The outbox sender: drains queued messages at a pace the chat apps accept.

Pacing is the sender's job, not the HTTP client's: one global spacing (``QUEN_SEND_RATE``
messages a second, 25 by default, under Telegram's ~30/s) and at most one message a second to one
chat. A 429 pauses the whole sender for the ``retry_after`` the platform asked for, and whatever
was claimed but not started goes back to the queue, so a long pause never outlives a lease. On
PostgreSQL the pace and the pause are shared by every process (``SharedPacer``): the limits are
the bot's, not one process's.

Each message is marked ``sending`` just before its request leaves, so after a crash the rows in
flight are known exactly: marketing among them is reported ``unknown`` (never resent), the rest is
sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from bot.delivery import About, Channel, Outcome, Result
from bot.logs import annotate
from bot.metrics import MESSAGES
from handlers.outgoing import Unrenderable, render, template_facts
from handlers.types import Shop
from loyalty import coordination, outbox
from loyalty.conversations import mark_unreachable
from models.db import is_postgres, log_failure, retry_while_unavailable, unavailable
from models.outbox import OutboxMessage

log = logging.getLogger(__name__)

#: A little over a second between two messages to one chat: the platform measures arrival, and
#: requests sent exactly a second apart can arrive closer together.
PER_CHAT_INTERVAL = 1.05
#: The spacing per chat when several processes share the pace: between a slot and its request
#: there are two database round trips (the pause check, the ``sending`` mark) and, for a
#: process's first sends, new connections: on a loaded machine a third of a second more for one
#: message than for the next (measured in ``tests/test_scale_processes.py``).
SHARED_PER_CHAT_INTERVAL = 1.5
#: How late a reserved slot may still be used: 0.1 s of a 25/s pace is under 3 messages,
#: which Telegram's 30/s leaves room for.
LATE = 0.1
#: How long an idle sender waits before looking at the queue again (a nudge wakes it sooner).
IDLE_POLL = 0.5
#: How often leases of dead senders are looked for.
RECOVER_EVERY = 15.0
MAX_IN_FLIGHT = 32


class Pacer:
    """Spacing for the whole sender, and per chat. Uses the event loop's monotonic clock."""

    def __init__(self, rate: float, per_chat: float = PER_CHAT_INTERVAL) -> None:
        self.interval = 1.0 / rate
        self.per_chat = per_chat
        self._next = 0.0
        self._paused_until = 0.0
        self._chat_free: dict[int, float] = {}

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    async def take_turn(self, account_id: int) -> float:
        """Until both the global spacing and this chat allow one more message; then take it.
        Check-and-take has no ``await`` in between, so concurrent callers never share a turn.
        Returns when the turn is, on the loop's clock (here: now)."""
        while True:
            now = self._now()
            start = max(self._next, self._paused_until, self._chat_free.get(account_id, 0.0))
            if start <= now:
                self._next = max(self._next, now) + self.interval
                self._chat_free[account_id] = now + self.per_chat
                return now
            await asyncio.sleep(start - now)

    async def turn_came(self, turn: float) -> bool:
        """Wait for a turn taken earlier; False if it must not be used after all (in memory, a
        429 is seen by the sender itself, so always True)."""
        if turn > self._now():
            await asyncio.sleep(turn - self._now())
        return True

    def on_time(self, turn: float) -> bool:
        """Whether a message whose turn it was may still leave now (checked last, just before
        the request)."""
        return True

    async def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._now() + seconds)

    def chats_free_by(self) -> datetime | None:
        """Claim only chats whose ``next_send_at`` has passed by then (None: no such filter,
        the chats in ``busy_accounts`` are all this pacer knows)."""
        return None

    def busy_accounts(self) -> set[int]:
        """Chats written to too recently for another message; forgets the rest."""
        now = self._now()
        self._chat_free = {a: free for a, free in self._chat_free.items() if free > now}
        return set(self._chat_free)


class SharedPacer(Pacer):
    """The pace of every sender on one PostgreSQL database together: each turn is a slot
    reserved in the database (``loyalty.coordination``), and a 429 pauses all processes. The
    chats written to from this process are still remembered here, so that the next claim passes
    them over instead of reserving a slot that would wait for the chat."""

    async def take_turn(self, account_id: int) -> float:
        """Reserve a slot in the database and return when it is, without waiting for it: the
        message is prepared meanwhile, so little time passes between the slot and the send."""
        wait = await coordination.reserve_send(account_id, self.interval, self.per_chat)
        turn = self._now() + wait
        self._chat_free[account_id] = turn + self.per_chat
        return turn

    def chats_free_by(self) -> datetime:
        """Now, on the wall clock the database's ``next_send_at`` is written in (not the
        application's clock, which tests move by hand): a chat another process wrote to a moment
        ago is passed over, instead of its slot holding back every other chat."""
        return datetime.now(UTC)

    async def turn_came(self, turn: float) -> bool:
        """Wait for the slot. False (give the message back) if a 429 pause began meanwhile, or
        if the slot is gone (a busy event loop): sent now, the message could arrive less than
        a second after the chat's next one, or bunch up with other late ones."""
        await super().turn_came(turn)
        return self.on_time(turn) and not await coordination.sends_paused()

    def on_time(self, turn: float) -> bool:
        return self._now() - turn <= LATE

    async def pause(self, seconds: float) -> None:
        await coordination.pause_sends(seconds)


class OutboxSender:
    """One sender per process; several processes on one PostgreSQL database share the queue."""

    def __init__(
        self,
        channels: Mapping[str, Channel],
        shop: Callable[[], Shop],
        policy: outbox.Policy,
        clock: Callable[[], datetime],
        *,
        rate: float,
        lease: timedelta,
    ) -> None:
        self.channels = channels
        self._shop = shop
        self.policy = policy
        self.clock = clock
        self.lease = lease
        self.pacer = SharedPacer(rate, SHARED_PER_CHAT_INTERVAL) if is_postgres() else Pacer(rate)
        self.batch_size = max(1, int(rate))
        self.worker = f"{socket.gethostname()[:24]}:{os.getpid()}:{id(self) % 10_000}"
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._throttled = False
        self._in_flight: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="outbox-sender")

    def nudge(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    async def stop(self) -> None:
        """Finish what is in flight, put back what was claimed but not started. Unbounded: the
        caller (``QuenApp.stop``) decides how long a shutdown may take."""
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._in_flight:
            await asyncio.wait(self._in_flight)
        await outbox.release(self.worker)

    def abandon(self) -> None:
        """Cancel the sends still in flight, for a shutdown out of time: their rows stay
        ``sending`` under their lease and are settled by recovery, as after a crash."""
        for task in self._in_flight:
            task.cancel()

    async def flush(self) -> None:
        """Send everything due now and wait for it (the console after each line; tests)."""
        while await self.drain_once() or self._in_flight:
            if self._in_flight:
                await asyncio.wait(self._in_flight)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_recovery = 0.0
        while not self._stopping.is_set():
            try:
                if loop.time() >= next_recovery:
                    await outbox.recover(self.clock())
                    next_recovery = loop.time() + RECOVER_EVERY
                sent_some = await self.drain_once()
            except Exception:  # keep the sender alive whatever happened
                log_failure(log, "outbox sender: a round failed; trying again shortly")
                sent_some = False
            if not sent_some:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), IDLE_POLL)
                self._wake.clear()

    async def drain_once(self) -> bool:
        """Claim one batch and dispatch it. False when there was nothing to do."""
        now = self.clock()
        await outbox.hold_until_opening(self.policy, now)
        batch = await outbox.claim(
            self.worker,
            now,
            self.batch_size,
            self.lease,
            self.channels.keys(),
            self.pacer.busy_accounts(),
            self.pacer.chats_free_by(),
        )
        self._throttled = False
        for message in batch:
            if self._stopping.is_set() or self._throttled:
                await outbox.release(self.worker)
                break
            await self._dispatch(message)
        return bool(batch)

    async def _dispatch(self, message: OutboxMessage) -> None:
        checked = await outbox.check(message, self.policy, self.clock())
        if checked is None:
            return
        turn = await self.pacer.take_turn(checked.account.id)
        if self._throttled or self._stopping.is_set():
            await outbox.give_back(message, "")
            return
        await self._slots.acquire()
        task = asyncio.create_task(self._send(checked, turn))
        self._in_flight.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._slots.release()
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox send crashed", exc_info=task.exception())

    async def _send(self, claimed: outbox.Claimed, turn: float) -> None:
        """Write the message, wait for its turn, mark it ``sending`` and send it: the platform
        sees the pace of the turns only if little happens between a turn and its request."""
        message, account = claimed.message, claimed.account
        annotate(outbox_id=message.id)  # this task's log lines name the message
        channel = self.channels.get(account.channel)
        if channel is None:
            await outbox.failed(message, f"no {account.channel} channel is configured")
            return
        try:
            reply = await render(message, account, claimed.customer, self._shop())
            facts = await template_facts(message, account, claimed.customer, self._shop())
        except Unrenderable as why:
            await outbox.skip(message, str(why))
            return
        except Exception as error:
            if unavailable(error):  # nothing is wrong with the message: write it later
                await self._give_back_later(message, error)
                return
            # A bug in one message must not stall the queue, or loop.
            log.exception("outbox %s (%s) could not be written", message.id, message.kind)
            await outbox.failed(message, f"could not be written: {error!r}")
            return
        about = About(
            kind=message.kind,
            key=message.dedupe_key,
            last_seen_at=account.last_seen_at,
            phone=claimed.customer.phone if claimed.customer else None,
            facts=facts,
        )
        try:
            ready = await self._take_turn(message, turn)
        except Exception as error:
            if not unavailable(error):
                raise
            await self._give_back_later(message, error)
            return
        if not ready:
            return
        outcome = await channel.deliver(account.chat_id, reply, about)
        # The message has left: recording what came of it is worth waiting for the database,
        # or a crash-style recovery would resend a receipt or call an offer's fate unknown.
        await retry_while_unavailable(lambda: self._settle(claimed, outcome))

    async def _take_turn(self, message: OutboxMessage, turn: float) -> bool:
        """Wait for the send slot and mark the message ``sending``. False: it went back to the
        queue (a 429, a stop, a missed slot) or is no longer ours to send."""
        if not await self.pacer.turn_came(turn) or self._throttled or self._stopping.is_set():
            await outbox.give_back(message, "")
            return False
        if not await outbox.start(message, self.policy, self.clock(), self.lease):
            return False
        if not self.pacer.on_time(turn):
            await outbox.give_back(message, "its send slot passed")
            return False
        return True

    async def _give_back_later(self, message: OutboxMessage, error: Exception) -> None:
        """Back to the queue, untried (nothing has left yet): the database failed while the
        message was being written or its turn taken. If even that fails, the lease brings the
        row back."""
        log.warning("outbox %s: database unavailable before sending (%s)", message.id, error)
        try:
            await outbox.give_back(message, "database unavailable")
        except Exception as again:
            log.warning("outbox %s: left to its lease (%s)", message.id, again)

    async def _settle(self, claimed: outbox.Claimed, outcome: Outcome) -> None:
        message, now = claimed.message, self.clock()
        MESSAGES.labels(channel=claimed.account.channel, outcome=outcome.result.value).inc()
        if outcome.result is Result.SENT:
            await outbox.sent(message)
        elif outcome.result is Result.THROTTLED:
            log.warning("outbox: 429, pausing all sends for %.1f s", outcome.retry_after)
            await self.pacer.pause(outcome.retry_after)
            self._throttled = True
            await outbox.give_back(message, f"429: retry after {outcome.retry_after:g} s")
        elif outcome.result is Result.UNREACHABLE:
            account = claimed.account
            await mark_unreachable(account.channel, account.external_id, now)
            await outbox.failed(message, f"unreachable: {outcome.detail}")
        elif outcome.result is Result.REFUSED:
            await outbox.failed(message, f"refused: {outcome.detail}")
        elif outcome.result is Result.SKIPPED:
            await outbox.skip(message, outcome.detail)
        elif outcome.result is Result.NOT_SENT:
            await outbox.not_delivered(message, outcome.detail, now)
        else:
            await outbox.outcome_unknown(message, outcome.detail, now)
