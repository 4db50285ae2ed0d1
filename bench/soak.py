"""The soak test of issue 10: a chain of ``quen run`` processes under a compressed busy half hour.

Everything runs on 127.0.0.1: ``--processes`` (3) real ``quen run`` processes in webhook mode
behind the round-robin ``tests/fakes/balancer.py``, the fake Bot API with Telegram's flood limits
(``FakeTelegram(flood_limits=True)``) posting updates to the balancer, and one PostgreSQL database
(``quen_soak`` by default: its public schema is dropped and migrated again at start).

1. Seeding, timed: ``--members`` (200,000) members with a Telegram account each (asyncpg COPY into
   ``customer``, ``channel_account`` and ``member_insight``). The first ``--campaign``/0.95 (52,632)
   joined 20 days ago and are in the "promising" segment, the rest joined 200 days ago ("lost"):
   exactly what the nightly analysis computes for members without purchases, so it may run
   before or after the campaign is approved. Every segment member and 90 % of the others agreed
   to offers. Then a store, an owner (``QUEN_OWNER_TELEGRAM_IDS`` and a staff row), cashiers
   (staff rows on Telegram accounts the fake knows), two rewards, member cards for 2,000 seeded
   members and the vouchers the double redemptions will use.
2. Traffic, ``--seconds`` (180) of wall time standing for 30 minutes of a busy chain:
   - ``--joiners`` (6) simulated people at a time join (/start, Tiếng Việt, "Tham gia và nhận
     ưu đãi", skip the phone, skip the birthday: five updates, five replies, the card last);
   - ``--cashiers`` (4) cashiers record purchases: open a member's card link (``/start m_…``),
     type the amount (unique per purchase, so each can be found again), press ✅ Xác nhận;
   - ``--pairs`` (2) pairs of cashiers scan the same voucher (``/start v_…``) and both press
     ✅ Dùng voucher at the same moment;
   - at 5 s the owner's campaign is created and approved through ``loyalty.campaigns.create`` /
     ``approve`` from this script (as the owner's /campaign conversation would), for the
     "promising" segment with the smallest holdout (5 %); the processes' campaign workers then
     prepare it (copy, voucher, outbox row per member) and the outbox sends it at 25/s;
   - the nightly jobs: each process runs catch-up at start (today's slot, one process per job),
     and at half time this script runs ``scheduler.jobs.run`` for every job for tomorrow's slot;
   - at 1/3 and 2/3 of the phase one process is killed with SIGKILL and started again.
3. Afterwards the outbox may drain for ``--drain-seconds`` (120); a 50,000-message campaign at
   25/s needs ~35 minutes, so what is left queued is reported, not waited for. Then the checks:
   no chat received more messages than it has outbox rows sent (or of unknown fate), i.e. no
   outbox message twice; every purchase a cashier saw recorded exists exactly once; every
   voucher redeemed at most once and each double attempt had exactly one success; ``quen check``
   exits 0. And the figures: updates handled/s, messages sent/s, latency from pushing an update
   to the bot's answer reaching the fake (p50/p99), error counts.

    .venv/bin/python bench/soak.py
    .venv/bin/python bench/soak.py --seconds 60 --members 20000 --campaign 2000

Not part of the test suite. Processes' logs go to ``--logs`` (/tmp/quen-soak).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
from benchkit import fresh_database, machine, percentile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loyalty import campaigns, members, vouchers  # noqa: E402
from loyalty.voice import Voice  # noqa: E402
from models.audit import JobRun  # noqa: E402
from models.campaigns import Campaign  # noqa: E402
from models.db import close_database, open_database  # noqa: E402
from models.members import ChannelAccount, Customer  # noqa: E402
from models.outbox import OutboxMessage  # noqa: E402
from models.purchases import Purchase  # noqa: E402
from models.rewards import Reward, Voucher  # noqa: E402
from models.staff import StaffMember, Store  # noqa: E402
from scheduler.jobs import JOBS, latest_fire  # noqa: E402
from scheduler.jobs import run as run_job  # noqa: E402
from tests.fakes.balancer import Balancer  # noqa: E402
from tests.fakes.telegram import Call, FakeTelegram, TgUser  # noqa: E402
from tests.test_e2e_telegram import SECRET, free_port  # noqa: E402
from tests.test_outbox_processes import quen_env, start  # noqa: E402

URL = "postgres://postgres@127.0.0.1:5432/quen_soak"
FIRST_MEMBER_CHAT = 6_000_000_000  # seeded member n has chat FIRST_MEMBER_CHAT + n
FIRST_JOINER = 8_000_000_000
OWNER = TgUser(7_000_000_001, "Hùng", "Chủ", language_code="vi")
FIRST_CASHIER = 7_000_000_100
SEGMENT = "promising"
CARDS = 2_000
STEP_TIMEOUT = 20.0
SEND_METHODS = ("sendMessage", "sendPhoto", "sendDocument")


class SoakTelegram(FakeTelegram):
    """The fake, plus an index of calls by chat so thousands of waiters need not rescan every
    call the fake ever recorded (``wait_for`` does, which is fine for a test, not for a soak)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.by_chat: dict[int, list[Call]] = {}
        self.wakers: dict[int, asyncio.Event] = {}

    def _record(self, call: Call) -> None:
        super()._record(call)
        chat = call.chat_id
        if isinstance(chat, int):
            self.by_chat.setdefault(chat, []).append(call)
            event = self.wakers.pop(chat, None)
            if event is not None:
                event.set()

    def mark(self, chat: int) -> int:
        return len(self.by_chat.get(chat, ()))

    async def answer(
        self, chat: int, since: int, containing: tuple[str, ...], needing: str = ""
    ) -> Call:
        """The first successful send or edit to ``chat`` after position ``since`` whose text
        holds one of ``containing`` (and ``needing``); TimeoutError after STEP_TIMEOUT."""
        deadline = time.monotonic() + STEP_TIMEOUT
        seen = since
        while True:
            calls = self.by_chat.get(chat, [])
            for call in calls[seen:]:
                if (
                    not call.failed
                    and call.method.startswith(("send", "edit"))
                    and any(text in (call.text or "") for text in containing)
                    and needing in (call.text or "")
                ):
                    return call
            seen = len(calls)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"chat {chat}: no {containing} in {STEP_TIMEOUT}s")
            event = self.wakers.setdefault(chat, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), left)


def buttons(call: Call) -> dict[str, str]:
    markup = call.params.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    steps: int = 0
    timeouts: Counter[str] = field(default_factory=Counter)
    joins: int = 0
    purchases_told: list[tuple[int, int]] = field(default_factory=list)  # (customer, amount)
    purchases_unsure: list[tuple[int, int]] = field(default_factory=list)
    pairs: list[tuple[int, int]] = field(default_factory=list)  # (voucher id, successes)
    pairs_unsure: list[int] = field(default_factory=list)
    kills: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


async def step(
    fake: SoakTelegram,
    tally: Tally,
    user: TgUser,
    kind: str,
    value: str,
    containing: tuple[str, ...],
    needing: str = "",
) -> Call:
    """Push one update (``user`` sends text ``value`` or presses the button carrying it), wait
    for the bot's answer in the user's chat."""
    since = fake.mark(user.id)
    pushed = time.time()
    if kind == "text":
        fake.push_text(user, value)
    else:
        fake.push_callback(user, value)
    call = await fake.answer(user.id, since, containing, needing)
    tally.latencies.append(call.at - pushed)
    tally.steps += 1
    return call


# --------------------------------------------------------------------------------- seeding


async def seed(url: str, count: int, segment: int, now: datetime) -> None:
    connection = await asyncpg.connect(url)
    try:
        recent, old = now - timedelta(days=20), now - timedelta(days=200)
        customers = [
            (
                n,
                f"Khách {n}",
                "vi",
                "member",
                0,
                n <= segment or n % 10 != 0,
                recent if n <= segment else old,
            )
            for n in range(1, count + 1)
        ]
        await connection.copy_records_to_table(
            "customer",
            records=customers,
            columns=[
                "id",
                "display_name",
                "language",
                "tier_code",
                "points_balance",
                "marketing_consent",
                "joined_at",
            ],
        )
        accounts = [
            (
                n,
                "telegram",
                str(FIRST_MEMBER_CHAT + n),
                str(FIRST_MEMBER_CHAT + n),
                "vi",
                "",
                c[6],
                n,
            )
            for n, c in zip(range(1, count + 1), customers, strict=True)
        ]
        await connection.copy_records_to_table(
            "channel_account",
            records=accounts,
            columns=[
                "id",
                "channel",
                "external_id",
                "chat_id",
                "language",
                "display_name",
                "created_at",
                "customer_id",
            ],
        )
        insights = [
            (
                n,
                n,
                now,
                0,
                20 if n <= segment else 200,
                0,
                0,
                4 if n <= segment else 1,
                1,
                1,
                SEGMENT if n <= segment else "lost",
                "[]",
            )
            for n in range(1, count + 1)
        ]
        await connection.copy_records_to_table(
            "member_insight",
            records=insights,
            columns=[
                "id",
                "customer_id",
                "as_of",
                "visits",
                "recency_days",
                "spend_vnd",
                "average_spend_vnd",
                "r_score",
                "f_score",
                "m_score",
                "segment",
                "favourite_items",
            ],
        )
        for table in ("customer", "channel_account", "member_insight"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {count})"
            )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def staff_and_stock(
    members_count: int, cashiers: int, pairs: int, now: datetime, vouchers_needed: int
) -> tuple[StaffMember, list[TgUser], list[tuple[int, str]], list[tuple[int, str]], int]:
    store = await Store.create(name="Cà Phê Quen — Quận 1")
    owner_account = await ChannelAccount.create(
        channel="telegram", external_id=str(OWNER.id), chat_id=str(OWNER.id), language="vi"
    )
    owner = await StaffMember.create(account=owner_account, store=None, role="owner")
    staff_users = []
    for n in range(cashiers + 2 * pairs):
        user = TgUser(FIRST_CASHIER + n, f"Thu ngân {n}", language_code="vi")
        account = await ChannelAccount.create(
            channel="telegram", external_id=str(user.id), chat_id=str(user.id), language="vi"
        )
        await StaffMember.create(account=account, store=store, role="cashier")
        staff_users.append(user)
    reward = await Reward.create(
        title="Bạc xỉu", kind="item", item_name="Bạc xỉu", cost_points=500, valid_days=14
    )
    await Reward.create(title="Giảm 20%", kind="percent", value=20, cost_points=800, valid_days=14)
    cards = []
    ids = random.Random(7).sample(range(1, members_count + 1), CARDS)
    for customer in await Customer.filter(id__in=ids):
        cards.append((customer.id, await members.issue_card(customer, now)))
    issued = []
    for n in range(vouchers_needed):
        got = await vouchers.issue(
            ids[n % len(ids)],
            reason="soak",
            title="Bạc xỉu",
            kind="item",
            value=0,
            valid_days=30,
            at=now,
            key=f"soak:{n}",
            item_name="Bạc xỉu",
        )
        issued.append((got.voucher.id, got.token))
    return owner, staff_users, cards, issued, reward.id


# --------------------------------------------------------------------------------- traffic


async def joiner(fake: SoakTelegram, tally: Tally, ids: Any, until: float) -> None:
    while time.monotonic() < until:
        user = TgUser(next(ids), "Bình", "Trần", language_code="vi")
        try:
            await step(fake, tally, user, "text", "/start", ("Chào mừng",))
            welcome = fake.by_chat[user.id][-1]
            data = buttons(welcome)["Tiếng Việt"]
            consent = await step(fake, tally, user, "callback", data, ("tối đa 2 tin",))
            data = buttons(consent)["Tham gia và nhận ưu đãi"]
            await step(fake, tally, user, "callback", data, ("Chia sẻ số",))
            await step(fake, tally, user, "text", "Bỏ qua", ("Sinh nhật",))
            await step(fake, tally, user, "text", "Bỏ qua", ("Thẻ thành viên",))
            tally.joins += 1
        except (TimeoutError, KeyError) as error:
            tally.timeouts[f"join: {type(error).__name__}"] += 1


async def cashier(
    fake: SoakTelegram,
    tally: Tally,
    user: TgUser,
    cards: list[tuple[int, str]],
    amounts: Any,
    until: float,
) -> None:
    rng = random.Random(user.id)
    while time.monotonic() < until:
        customer, token = rng.choice(cards)
        amount = next(amounts)
        try:
            await step(
                fake, tally, user, "text", f"/start m_{token}", ("👤",), f"👤 Khách {customer} —"
            )
            shown = f"{amount:,} ₫".replace(",", ".")
            confirm = await step(
                fake, tally, user, "text", str(amount), ("Xác nhận?",), f"Ghi {shown} cho"
            )
            data = buttons(confirm)["✅ Xác nhận"]
        except (TimeoutError, KeyError) as error:
            tally.timeouts[f"purchase before confirm: {type(error).__name__}"] += 1
            fake.push_text(user, "/cancel")
            await asyncio.sleep(1.5)
            continue
        try:
            told = await step(
                fake, tally, user, "callback", data, ("✅ Đã ghi",), f"Đã ghi {shown} cho"
            )
            named = re.search(r"cho Khách (\d+):", told.text or "")
            told_customer = int(named[1]) if named else -1
            if told_customer != customer:  # the card scanned is not the one confirmed
                tally.timeouts["purchase confirmed for another card than the last scanned"] += 1
            tally.purchases_told.append((told_customer, amount))
        except TimeoutError:
            tally.timeouts["purchase confirm"] += 1
            tally.purchases_unsure.append((customer, amount))


async def redeem_pair(
    fake: SoakTelegram,
    tally: Tally,
    pair: tuple[TgUser, TgUser],
    stock: list[tuple[int, str]],
    until: float,
) -> None:
    won, lost = ("Đã dùng voucher",), ("đã được dùng lúc",)
    while time.monotonic() < until and stock:
        voucher_id, token = stock.pop()
        try:
            views = await asyncio.gather(
                *(
                    step(
                        fake,
                        tally,
                        u,
                        "text",
                        f"/start v_{token}",
                        ("Của:",),
                    )
                    for u in pair
                )
            )
            datas = [buttons(view)["✅ Dùng voucher"] for view in views]
            marks = [fake.mark(u.id) for u in pair]
            pushed = time.time()
            for u, data in zip(pair, datas, strict=True):
                fake.push_callback(u, data)
            outcomes = await asyncio.gather(
                *(fake.answer(u.id, mark, won + lost) for u, mark in zip(pair, marks, strict=True))
            )
        except (TimeoutError, KeyError) as error:
            tally.timeouts[f"double redeem: {type(error).__name__}"] += 1
            tally.pairs_unsure.append(voucher_id)
            continue
        tally.latencies += [call.at - pushed for call in outcomes]
        tally.steps += 2
        successes = sum(1 for call in outcomes if won[0] in (call.text or ""))
        tally.pairs.append((voucher_id, successes))


async def in_own_process(task: str, url: str, *args: object) -> list[str]:
    """Run ``task`` (``campaign`` or ``nightly``) in a child process and return the lines it
    printed. The fake Bot API and the balancer live on this script's event loop: a campaign's
    approval or a night's analysis of 200,000 members run here would stall them for seconds, and
    the processes would see Telegram time out, which the real one does not do for that reason."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bench" / "soak.py"),
        "--database-url",
        url,
        "--task",
        task,
        *(str(a) for a in args),
        stdout=subprocess.PIPE,
    )
    out, _ = await child.communicate()
    lines = out.decode().splitlines()
    if child.returncode != 0:
        lines.append(f"task {task} failed with exit code {child.returncode}")
    return lines


async def run_task(url: str, task: str, args: list[str]) -> None:
    """The child side of ``in_own_process``."""
    await open_database(url)
    try:
        if task == "campaign":
            owner = await StaffMember.get(id=int(args[0]))
            _, events = await campaign_now(owner, int(args[1]), datetime.now(UTC))
        else:
            events = await nightly(ZoneInfo(args[0]))
    finally:
        await close_database()
    print("\n".join(events), flush=True)


async def campaign_now(owner: StaffMember, reward_id: int, now: datetime) -> tuple[int, list[str]]:
    started = time.perf_counter()
    offer = await campaigns.offer_of_reward(reward_id)
    draft = await campaigns.create(
        owner,
        campaigns.Audience(campaigns.SEGMENT, SEGMENT),
        offer,
        valid_until=now + timedelta(days=14),
        holdout_pct=campaigns.MIN_HOLDOUT,
        send_mode=campaigns.NOW,
        send_at=None,
        now=now,
    )
    approved = await campaigns.approve(draft.id, now)
    event = (
        f"campaign #{approved.id} approved in {time.perf_counter() - started:.1f} s: "
        f"{approved.members_send} to send, {approved.members_holdout} held out"
    )
    return approved.id, [event]


async def nightly(zone: ZoneInfo) -> list[str]:
    now = datetime.now(UTC)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    events = []
    for name in JOBS:
        started = time.perf_counter()
        outcome = await run_job(name, now, zone, Voice("Quen Café"), tomorrow)
        events.append(
            f"job {name} for {tomorrow}: {outcome} ({time.perf_counter() - started:.1f} s)"
        )
    return events


class Chain:
    def __init__(self, count: int, url: str, fake: FakeTelegram, balancer: Balancer, logs: Path):
        self.ports = [free_port() for _ in range(count)]
        balancer.targets = [f"http://127.0.0.1:{port}" for port in self.ports]
        self.envs = [
            quen_env(
                url,
                fake,
                QUEN_TELEGRAM_MODE="webhook",
                QUEN_WEBHOOK_SECRET=SECRET,
                QUEN_HTTP_PORT=str(port),
                QUEN_PUBLIC_URL=balancer.url,
                QUEN_SEND_RATE="25",
                QUEN_OUTBOX_LEASE_SECONDS="30",
                QUEN_OWNER_TELEGRAM_IDS=str(OWNER.id),
            )
            for port in self.ports
        ]
        self.logs = logs
        self.processes: list[asyncio.subprocess.Process] = []

    async def start(self, n: int) -> None:
        process = await start(self.envs[n], self.logs / f"quen-{n}.log")
        if n < len(self.processes):
            self.processes[n] = process
        else:
            self.processes.append(process)
        await self.healthy(n)

    async def healthy(self, n: int) -> None:
        deadline = time.monotonic() + 60
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                try:
                    async with session.get(f"http://127.0.0.1:{self.ports[n]}/healthz") as answer:
                        if answer.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError(f"process {n} not healthy in 60 s")

    async def kill_and_restart(self, n: int, tally: Tally) -> None:
        process = self.processes[n]
        process.kill()  # SIGKILL
        await process.wait()
        started = time.perf_counter()
        await self.start(n)
        tally.kills.append(
            f"process {n} SIGKILLed and healthy again after {time.perf_counter() - started:.1f} s"
        )

    async def stop(self) -> list[int | None]:
        for process in self.processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), 60)
            except TimeoutError:
                process.kill()
                await process.wait()
        return [p.returncode for p in self.processes]


# --------------------------------------------------------------------------------- checks


async def outbox_duplicates(fake: FakeTelegram) -> tuple[int, int, int, int, Counter[str]]:
    """Chats of seeded members (they only ever get outbox messages) that received more messages
    than they have outbox rows sent or of unknown fate, beyond the resends the outbox promises
    for receipts (a transactional message whose send timed out is sent again: at least once);
    those resends; and rows marked sent that never arrived."""
    delivered = fake.delivered_counts()
    rows = await OutboxMessage.filter(account_id__isnull=False).values_list(
        "account__chat_id", "status", "marketing", "attempts"
    )
    sent: Counter[int] = Counter()
    fate_unknown: Counter[int] = Counter()
    allowed: Counter[int] = Counter()
    for chat, status, marketing, attempts in rows:
        if status == "sent":
            sent[int(chat)] += 1
            allowed[int(chat)] += 0 if marketing else attempts - 1
        elif status == "unknown":
            fate_unknown[int(chat)] += 1
    seeded = [chat for chat in delivered if chat > FIRST_MEMBER_CHAT and chat < FIRST_JOINER - 1]
    seeded = [chat for chat in seeded if chat < 7_000_000_000]
    expected = {chat: sent[chat] + fate_unknown[chat] for chat in seeded}
    duplicates = sum(1 for chat in seeded if delivered[chat] > expected[chat] + allowed[chat])
    resent = sum(max(0, min(delivered[chat] - expected[chat], allowed[chat])) for chat in seeded)
    missing = sum(1 for chat, n in sent.items() if delivered.get(chat, 0) < n)
    statuses = Counter(status for _, status, _, _ in rows)
    return duplicates, resent, missing, len(seeded), statuses


async def restart_postgres(tally: Tally) -> None:
    """Restart the local cluster the way an operator (or a failover) would, mid-traffic: the
    processes must reconnect by themselves and lose nothing."""
    version = sorted(os.listdir("/etc/postgresql"))[0]
    started = time.perf_counter()
    restart = await asyncio.create_subprocess_exec(
        "pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"
    )
    await restart.wait()
    tally.kills.append(
        f"PostgreSQL {version} restarted (exit {restart.returncode}) in "
        f"{time.perf_counter() - started:.1f} s"
    )


def quen_check(url: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEN_")}
    env["QUEN_DATABASE_URL"] = url
    env["QUEN_DEFAULT_LANGUAGE"] = "en"  # the summary line is read below
    result = subprocess.run(
        [str(ROOT / ".venv/bin/quen"), "check"], env=env, capture_output=True, text=True
    )
    return result.returncode, (result.stdout + result.stderr).strip()


# --------------------------------------------------------------------------------- main


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=URL)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--campaign", type=int, default=50_000, help="members sent the campaign")
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--drain-seconds", type=float, default=120.0)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--joiners", type=int, default=6)
    parser.add_argument("--cashiers", type=int, default=4)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--logs", type=Path, default=Path("/tmp/quen-soak"))
    parser.add_argument(
        "--restart-postgres",
        action="store_true",
        help="restart the local PostgreSQL server at 5/6 of the phase (it breaks anything else "
        "using that server at the time)",
    )
    parser.add_argument("--task", choices=("campaign", "nightly"), help=argparse.SUPPRESS)
    parser.add_argument("task_args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.task:
        await run_task(args.database_url, args.task, args.task_args)
        return
    args.logs.mkdir(parents=True, exist_ok=True)
    for old in args.logs.glob("quen-*.log"):
        old.unlink()
    segment = round(args.campaign / 0.95)  # the 5 % holdout leaves ``--campaign`` to send
    print(f"machine: {machine()}")
    print(f"options: {vars(args)}")

    async with fresh_database(args.database_url) as url:
        now = datetime.now(UTC)
        started = time.perf_counter()
        await seed(url, args.members, segment, now)
        seeded = time.perf_counter() - started
        vouchers_needed = 200 * args.pairs
        owner, staff, cards, stock, reward_id = await staff_and_stock(
            args.members, args.cashiers, args.pairs, now, vouchers_needed
        )
        print(
            f"seeding: {args.members:,} members, accounts and insights by COPY in {seeded:.1f} s; "
            f"staff, {len(cards):,} cards and {len(stock)} vouchers in "
            f"{time.perf_counter() - started - seeded:.1f} s"
        )

        tally = Tally()
        fake = SoakTelegram(bot_username="QuenTestBot", flood_limits=True)
        # Like the Bot API server, which doubles its pause up to 60 s and keeps trying for a
        # day: an update whose delivery failed (a killed process, a database restart) comes
        # again. Seven tries over ~2 minutes here, so the run stays bounded.
        fake.webhook_retry_delays = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0)
        balancer = Balancer()
        await fake.start()
        await balancer.start()
        chain = Chain(args.processes, url, fake, balancer, args.logs)
        zone = ZoneInfo(chain.envs[0]["QUEN_TIMEZONE"])
        try:
            started = time.perf_counter()
            await asyncio.gather(*(chain.start(n) for n in range(args.processes)))
            print(f"{args.processes} processes healthy in {time.perf_counter() - started:.1f} s")
            clock = datetime.now(UTC)
            due = sum(1 for job in JOBS.values() if latest_fire(job.trigger(zone), clock))
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                done = await JobRun.filter(finished_at__isnull=False).count()
                if done >= due:
                    break
                await asyncio.sleep(1)
            runs = await JobRun.all().order_by("id").values_list("job", "outcome")
            print(f"catch-up at start: {len(runs)} job runs: {runs}")

            fake.clear_calls()
            phase_started = time.monotonic()
            until = phase_started + args.seconds
            ids = itertools.count(FIRST_JOINER)
            amounts = itertools.count(20_001, 7)
            cashiers, pairs = staff[: args.cashiers], staff[args.cashiers :]
            stock_by_pair = [stock[i :: args.pairs] for i in range(args.pairs)]
            users = [
                *(joiner(fake, tally, ids, until) for _ in range(args.joiners)),
                *(cashier(fake, tally, u, cards, amounts, until) for u in cashiers),
                *(
                    redeem_pair(
                        fake, tally, (pairs[2 * i], pairs[2 * i + 1]), stock_by_pair[i], until
                    )
                    for i in range(args.pairs)
                ),
            ]

            async def director() -> None:
                await asyncio.sleep(5)
                tally.events += await in_own_process("campaign", url, owner.id, reward_id)
                await asyncio.sleep(max(0.0, phase_started + args.seconds / 3 - time.monotonic()))
                await chain.kill_and_restart(0, tally)
                await asyncio.sleep(max(0.0, phase_started + args.seconds / 2 - time.monotonic()))
                tally.events += await in_own_process("nightly", url, zone.key)
                await asyncio.sleep(
                    max(0.0, phase_started + 2 * args.seconds / 3 - time.monotonic())
                )
                await chain.kill_and_restart(1, tally)
                if args.restart_postgres:
                    await asyncio.sleep(
                        max(0.0, phase_started + 5 * args.seconds / 6 - time.monotonic())
                    )
                    await restart_postgres(tally)

            await asyncio.gather(director(), *users)
            phase = time.monotonic() - phase_started
            sends_in_phase = sum(fake.delivered_counts().values())
            pushed_in_phase = fake._next_update_id  # a counter, read only
            print(f"traffic phase: {phase:.1f} s wall")

            drain_started = time.monotonic()
            pending = ("queued", "claimed", "sending")
            while time.monotonic() - drain_started < args.drain_seconds:
                if not await OutboxMessage.filter(status__in=pending).exists():
                    break
                await asyncio.sleep(2)
            drained = time.monotonic() - drain_started
            codes = await chain.stop()
            still_pending = {update["update_id"] for update in fake.pending_updates}
        finally:
            for process in chain.processes:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
            await balancer.stop()
            await fake.stop()

        total = time.monotonic() - phase_started
        sends = sum(fake.delivered_counts().values())
        duplicates, resent, missing, seeded_chats, statuses = await outbox_duplicates(fake)
        told = Counter(tally.purchases_told)
        lost, doubled = 0, 0
        purchase_log = []
        for customer, amount in told:
            found = await Purchase.filter(customer_id=customer, amount_vnd=amount).count()
            lost += found == 0
            doubled += found > 1
            purchase_log.append(f"told customer={customer} amount={amount} found={found}")
        purchase_log += [f"unsure customer={c} amount={a}" for c, a in tally.purchases_unsure]
        (args.logs / "purchases.txt").write_text("\n".join(purchase_log) + "\n")
        unsure_found = [
            await Purchase.filter(customer_id=c, amount_vnd=a).count()
            for c, a in tally.purchases_unsure
        ]
        pair_ids = [v for v, _ in tally.pairs] + tally.pairs_unsure
        redeemed = Counter(await Voucher.filter(id__in=pair_ids).values_list("status", flat=True))
        not_one = [v for v, successes in tally.pairs if successes != 1]
        used_notices = await OutboxMessage.filter(dedupe_key__startswith="voucher-used").count()
        campaign = await Campaign.all().order_by("-id").first()
        campaign_rows = Counter(
            await OutboxMessage.filter(kind=campaigns.KIND).values_list("status", flat=True)
        )
        logs = "".join(p.read_text(errors="replace") for p in sorted(args.logs.glob("*.log")))
        check_code, check_out = quen_check(url)

        ordered = sorted(tally.latencies)
        print("\n".join(tally.events + tally.kills))
        print(f"exit codes at SIGTERM: {codes}")
        print(
            f"drain: {drained:.1f} s (bounded by {args.drain_seconds:.0f} s); outbox rows by "
            f"status: {dict(statuses)}"
        )
        if campaign is not None:
            print(
                f"campaign #{campaign.id}: status {campaign.status}, {campaign.members_send} "
                f"to send; its outbox rows by status: {dict(campaign_rows)}"
            )
        print(
            f"updates pushed {pushed_in_phase - 1:,} ({(pushed_in_phase - 1) / phase:.1f}/s); "
            f"answered as expected {tally.steps:,} ({tally.steps / phase:.1f}/s); "
            f"joins {tally.joins}; purchases told recorded "
            f"{len(tally.purchases_told)}; double redemptions {len(tally.pairs)}"
        )
        print(
            f"messages delivered: {sends_in_phase:,} in the phase "
            f"({sends_in_phase / phase:.1f}/s), "
            f"{sends:,} up to the end ({sends / total:.1f}/s over {total:.0f} s)"
        )
        if ordered:
            print(
                f"latency update pushed -> answer at the fake: p50 "
                f"{percentile(ordered, 0.5) * 1000:.0f} ms, p99 "
                f"{percentile(ordered, 0.99) * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms "
                f"({len(ordered):,} samples)"
            )
        failed_deliveries = sum(1 for d in fake.deliveries if not d.ok)
        delivered_ids = {d.update_id for d in fake.deliveries if d.ok}
        given_up = {d.update_id for d in fake.deliveries} - delivered_ids - still_pending
        by_status = Counter(d.status or d.error for d in fake.deliveries if not d.ok)
        refused = Counter(
            "to seeded members (outbox)"
            if isinstance(c.chat_id, int) and FIRST_MEMBER_CHAT < c.chat_id < 7_000_000_000
            else "to people chatting (replies)"
            for c in fake.calls
            if c.failed and c.error_code == 429
        )
        print(f"429 answers by kind of chat: {dict(refused)}")
        print(
            f"errors: step timeouts {dict(tally.timeouts)}; 429s {fake.flood_rejections}; "
            f"balancer 502s {balancer.failures}; failed webhook deliveries {failed_deliveries} "
            f"{dict(by_status)}, updates given up {len(given_up)}, still being retried at "
            f"the end {len(still_pending)}; "
            f"'Traceback' in logs {logs.count('Traceback')}; ERROR lines {logs.count(' ERROR ')}"
        )
        print(
            f"DUPLICATES: {duplicates} of {seeded_chats:,} seeded members' chats got more "
            f"messages than their outbox rows sent/unknown; {resent} receipts sent again after "
            f"a send timed out (at least once, by design); {missing} chats short of rows "
            "marked sent"
        )
        print(
            f"PURCHASES: {len(told)} told recorded, {lost} lost, {doubled} recorded twice; "
            f"{len(unsure_found)} unanswered confirmations found {Counter(unsure_found)} times "
            f"(each listed in {args.logs / 'purchases.txt'})"
        )
        print(
            f"VOUCHERS: {len(tally.pairs)} double attempts, {len(not_one)} without exactly one "
            f"success; statuses {dict(redeemed)}; {len(tally.pairs_unsure)} attempts "
            f"unanswered; voucher-used notices {used_notices}"
        )
        summary = [line for line in check_out.splitlines() if "invariant" in line]
        print(f"QUEN CHECK: exit {check_code}: {summary[-1] if summary else check_out[-300:]}")
        ok = duplicates == 0 and lost == 0 and doubled == 0 and not not_one and check_code == 0
        print("RESULT: " + ("all checks passed" if ok else "CHECKS FAILED"))
        if not ok:
            print(check_out)
            sys.exit(1)


if __name__ == "__main__":
    asyncio.run(main())
