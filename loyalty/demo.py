"""``quen demo``: a believable café chain with a year of history, so a newcomer can try the owner's
insight commands within a minute instead of waiting a year for real customers.

What it makes (all deterministic for a seed, no network):

* two stores, a menu of 13 Vietnamese café items with prices, four rewards;
* three staff on the ``console`` channel: the demo owner (``demo-owner``, who is the actor in the
  audit log for the stores, menu and rewards) and one cashier per store (``demo-cashier-1``,
  ``demo-cashier-2``), who recorded the purchases and redeemed the vouchers. ``quen chat --as
  owner --user demo-owner`` talks to the bot as that owner;
* members with Vietnamese names, unique Vietnamese mobile numbers, some birthdays, about 60 %
  marketing consent (with the same consent records joining writes), joined over the last year,
  without chat accounts (they are made up: nothing can ever be sent to them);
* a year of purchases from a heterogeneous process, because the insights (recency, frequency,
  churn) only say something on data that looks like a real shop: each member has their own visit
  rate (gamma distributed: many occasional guests, a few regulars several times a week), a daily
  rhythm (commuters, office lunches, students, weekend guests), a home store, favourite drinks,
  and about a third stop coming at some point;
* about 5 % of members claimed a reward through the real ``claim_reward``, and most of those used
  it through the real ``redeem`` on a later visit.

The purchases are real ledger history, earned as ``award_purchase`` would have earned them (the
program's earn rate, the tier multiplier in force at each purchase, lots expiring after the
program's points lifetime), but written with ``bulk_create``: a hundred thousand one-by-one
purchases would take many minutes. The ledger invariants hold afterwards: each member's
``points_balance`` equals the sum of their entries and the sum of their lots' ``remaining``.

Everything happens in one transaction, so a failure leaves the database as it was (and a retry is
not refused because half a demo is already there). All times written or queried are UTC: SQLite
stores UTC text and compares filter values as given.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from locales import Refusal
from loyalty import audit, ledger, menu, rules, staff, tiers, vouchers
from loyalty.members import CONSENT_WORDING_VERSION, MARKETING, MEMBERSHIP
from models.ledger import LedgerEntry, PointsLot
from models.members import ChannelAccount, ConsentRecord, Customer
from models.purchases import Purchase
from models.staff import StaffMember, Store

CHANNEL = "console"
OWNER_EXTERNAL_ID = "demo-owner"
#: Purchase idempotency keys start with this (their earn entries' keys with ``purchase:demo:``).
KEY_PREFIX = "demo:"
HISTORY_DAYS = 365
BATCH = 2000

STORES = ("Quen Café Quận 1", "Quen Café Thủ Đức")
#: Share of members whose home store is the first one (the busier, central branch).
FIRST_STORE_SHARE = 0.6


@dataclass(frozen=True)
class _Dish:
    name: str
    price_vnd: int
    drink: bool
    popularity: int


MENU = (
    _Dish("Cà phê sữa đá", 29_000, True, 30),
    _Dish("Cà phê đen đá", 25_000, True, 14),
    _Dish("Bạc xỉu", 35_000, True, 16),
    _Dish("Cà phê muối", 39_000, True, 12),
    _Dish("Cà phê cốt dừa", 45_000, True, 6),
    _Dish("Trà đào cam sả", 45_000, True, 12),
    _Dish("Trà vải", 42_000, True, 6),
    _Dish("Trà sữa ô long", 45_000, True, 6),
    _Dish("Matcha latte", 49_000, True, 5),
    _Dish("Sinh tố bơ", 49_000, True, 4),
    _Dish("Bánh mì que", 20_000, False, 5),
    _Dish("Bánh croissant", 35_000, False, 3),
    _Dish("Bánh flan", 22_000, False, 3),
)
DRINKS = tuple(dish for dish in MENU if dish.drink)
FOODS = tuple(dish for dish in MENU if not dish.drink)
MAX_BILL_VND = 250_000
MAX_ITEM_NAMES = 3


@dataclass(frozen=True)
class _Reward:
    title: str
    kind: str
    value: int
    cost: int
    valid_days: int
    item_name: str = ""
    min_spend: int | None = None
    stock: int | None = None
    tier_code: str | None = None


REWARDS = (
    _Reward("Cà phê sữa đá miễn phí", vouchers.ITEM, 0, 300, 30, item_name="Cà phê sữa đá"),
    _Reward("Giảm 20.000 ₫", vouchers.AMOUNT, 20_000, 250, 30),
    _Reward("Giảm 15% hóa đơn từ 100.000 ₫", vouchers.PERCENT, 15, 600, 30, min_spend=100_000),
    _Reward(
        "Ly sứ Quen bản giới hạn",
        vouchers.ITEM,
        0,
        1_500,
        60,
        item_name="Ly sứ Quen",
        stock=40,
        tier_code="silver",
    ),
)
#: Share of members who claimed a reward, and of those who then used it on a later visit.
CLAIM_SHARE = 0.05
REDEEM_SHARE = 0.75

#: (weight, family name): the south's distribution roughly (Huỳnh and Võ are common in Saigon).
FAMILY_NAMES = (
    (31, "Nguyễn"),
    (11, "Trần"),
    (9, "Lê"),
    (7, "Phạm"),
    (5, "Huỳnh"),
    (3, "Hoàng"),
    (4, "Phan"),
    (4, "Võ"),
    (2, "Vũ"),
    (2, "Đặng"),
    (2, "Bùi"),
    (1, "Đỗ"),
    (1, "Hồ"),
    (1, "Ngô"),
    (1, "Dương"),
    (1, "Trương"),
    (1, "Lý"),
)
# fmt: off
FEMALE_MIDDLE = ("Thị", "Ngọc", "Thu", "Thanh", "Minh", "Bảo", "Khánh", "Hoài", "Mỹ", "Phương")
FEMALE_GIVEN = (
    "Anh", "Lan", "Hương", "Linh", "Trang", "Mai", "Hà", "Thảo", "Ngọc", "Vy", "Nhi", "Hạnh",
    "Phương", "Quyên", "Yến", "Trâm", "Uyên", "Thư", "Hằng", "Nhung", "Tâm", "Hân", "My",
    "Giang", "Châu",
)
MALE_MIDDLE = ("Văn", "Đức", "Minh", "Quang", "Hữu", "Thành", "Hoàng", "Gia", "Anh", "Quốc")
MALE_GIVEN = (
    "Hùng", "Dũng", "Tuấn", "Minh", "Nam", "Huy", "Khoa", "Phúc", "Long", "Quân", "Bảo", "Đạt",
    "Hiếu", "Khang", "Tài", "Thắng", "Trung", "Sơn", "Vinh", "Duy", "Khôi", "Phong", "Thịnh",
    "An", "Kiên",
)
#: Vietnamese mobile prefixes after +84 (Viettel, Vinaphone, MobiFone).
MOBILE_PREFIXES = (
    "32", "33", "34", "35", "36", "37", "38", "39", "86", "96", "97", "98", "81", "82", "83",
    "84", "85", "88", "91", "94", "70", "76", "77", "78", "79", "90", "93",
)
# fmt: on

CONSENT_SHARE = 0.6
ENGLISH_SHARE = 0.07
BIRTHDAY_SHARE = 0.45
BIRTH_YEAR_SHARE = 0.35
LAPSE_SHARE = 0.32
#: Share of members who joined in the opening month (the launch brought a crowd).
LAUNCH_SHARE = 0.2
#: Visits per week: gamma(shape, scale), mean about 1.3: many occasional guests (a fifth come once
#: or twice), a long tail of regulars (a few twice a day).
RATE_SHAPE, RATE_SCALE, MAX_WEEKLY_VISITS = 0.5, 2.7, 10.0
MAX_VISITS_PER_DAY = 2  # under the owners' default "many bills in a day" alert (3)
MIN_GAP = timedelta(hours=1)

#: Opening bands in local minutes after midnight: no visits between 22:00 and 06:30.
BANDS = ((390, 570), (570, 690), (690, 840), (840, 1050), (1050, 1320))


@dataclass(frozen=True)
class _Persona:
    """When someone comes: weights over ``BANDS`` and a factor per weekday (Monday first)."""

    share: float
    bands: tuple[float, ...]
    weekdays: tuple[float, ...]


PERSONAS = (
    _Persona(0.3, (0.7, 0.1, 0.1, 0.05, 0.05), (1.25, 1.25, 1.25, 1.25, 1.25, 0.5, 0.4)),
    _Persona(0.3, (0.15, 0.1, 0.6, 0.1, 0.05), (1.2, 1.2, 1.2, 1.2, 1.2, 0.5, 0.5)),
    _Persona(0.2, (0.05, 0.1, 0.15, 0.4, 0.3), (1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.1)),
    _Persona(0.2, (0.2, 0.25, 0.15, 0.25, 0.15), (0.6, 0.6, 0.6, 0.6, 0.7, 2.0, 2.0)),
)


@dataclass(frozen=True)
class DemoReport:
    """What ``fill_demo`` created, and how long it took."""

    stores: int
    menu_items: int
    rewards: int
    members: int
    purchases: int
    vouchers: int
    seconds: float


class DemoRefused(Refusal):
    """The database already has members: the demo only fills an empty program, touching nothing
    otherwise (mixing made-up members into a real shop's data would spoil its insights). Said as
    ``demo-refused-not-empty``, so ``quen demo`` tells it in the operator's language."""

    def __init__(self, members: int) -> None:
        super().__init__("demo-refused-not-empty", members=members)


@dataclass
class _Visit:
    at: datetime  # UTC
    store: int  # index into STORES
    amount: int
    items: list[str]
    points: int = 0


@dataclass(frozen=True)
class _Claim:
    """A member turned points into a voucher just after visit ``after`` and maybe used it at a
    later visit (one minute before paying for it)."""

    reward: int  # index into REWARDS
    after: int
    at: datetime
    redeem_at: datetime | None
    redeem_store: int | None


@dataclass
class _Member:
    name: str
    phone: str
    language: str
    birthday: tuple[int, int, int | None] | None
    consent: bool
    joined_at: datetime
    visits: list[_Visit]
    tier_now: str = "member"
    claim: _Claim | None = None
    customer_id: int = 0


async def fill_demo(
    now: datetime, zone: ZoneInfo, *, members: int = 2000, seed: int = 7
) -> DemoReport:
    """Fill an empty program with a demo café chain whose history ends at ``now`` (aware).

    Raises ``DemoRefused`` if any member exists (nothing is written then). The same ``seed`` and
    ``now`` give the same members, purchases and claims (voucher tokens and short codes stay
    random: they are secrets).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if members < 1:
        raise ValueError("members must be at least 1")
    started = time.perf_counter()
    now = now.astimezone(UTC)
    async with in_transaction():
        existing = await Customer.all().count()
        if existing:
            raise DemoRefused(existing)
        await tiers.ensure_default_tiers()
        program = await rules.current()
        lifetime = timedelta(days=program.points_lifetime_days)
        plan = _plan(
            random.Random(seed),
            now,
            zone,
            members,
            await tiers.current_rules(),
            program.earn_vnd_per_point,
            lifetime,
        )
        owner = await _staff(OWNER_EXTERNAL_ID, "Chủ quán (demo)", staff.OWNER, None)
        stores = [await staff.add_store(owner, name) for name in STORES]
        cashiers = [
            await _staff(f"demo-cashier-{n}", f"Thu ngân {n} (demo)", staff.CASHIER, store)
            for n, store in enumerate(stores, start=1)
        ]
        for dish in MENU:
            await menu.add_item(owner.account_id, dish.name)
        reward_ids = [await _add_reward(owner.account_id, reward) for reward in REWARDS]
        till = _Till(stores, cashiers, lifetime)
        await _write_members(plan)
        await till.write([(m, 0, m.claim.after + 1 if m.claim else len(m.visits)) for m in plan])
        claimed = await _claims(plan, reward_ids, till, now)
        for customer_id in await ledger.customers_with_expired_lots(now):
            await ledger.expire_due(customer_id, now)
        await vouchers.expire_vouchers(now)
        await audit.record(
            owner.account_id, "demo.fill", f"seed {seed}", members=members, vouchers=claimed
        )
    return DemoReport(
        stores=len(stores),
        menu_items=len(MENU),
        rewards=len(reward_ids),
        members=len(plan),
        purchases=sum(len(member.visits) for member in plan),
        vouchers=claimed,
        seconds=round(time.perf_counter() - started, 2),
    )


# ------------------------------------------------------------------------------ the plan


def _plan(
    rng: random.Random,
    now: datetime,
    zone: ZoneInfo,
    count: int,
    tier_rules: Sequence[tiers.TierRule],
    vnd_per_point: int,
    lifetime: timedelta,
) -> list[_Member]:
    """Everything random, decided before anything is written (so the seed alone decides it)."""
    phones: set[str] = set()
    plan = []
    for _ in range(count):
        member = _member(rng, now, zone, phones)
        member.tier_now = _price(member.visits, tier_rules, vnd_per_point, now)
        plan.append(member)
    wanted = max(1, round(count * CLAIM_SHARE))
    stock = {i: reward.stock for i, reward in enumerate(REWARDS)}
    for index in rng.sample(range(count), count):
        if wanted == 0:
            break
        claim = _claim(rng, plan[index].visits, now, tier_rules, lifetime, stock)
        if claim is not None:
            plan[index].claim = claim
            wanted -= 1
    return plan


def _member(rng: random.Random, now: datetime, zone: ZoneInfo, phones: set[str]) -> _Member:
    female = rng.random() < 0.55
    family = rng.choices([n for _, n in FAMILY_NAMES], [w for w, _ in FAMILY_NAMES])[0]
    middle = rng.choice(FEMALE_MIDDLE if female else MALE_MIDDLE)
    given = rng.choice(FEMALE_GIVEN if female else MALE_GIVEN)
    phone = ""
    while not phone or phone in phones:
        phone = f"+84{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**7):07d}"
    phones.add(phone)
    birthday = None
    if rng.random() < BIRTHDAY_SHARE:
        born = date(2000, 1, 1) + timedelta(days=rng.randrange(366))  # a leap year: 29/02 too
        year = None
        if rng.random() < BIRTH_YEAR_SHARE:
            year = rng.randint(now.year - 55, now.year - 18)
        if year is not None and (born.month, born.day) == (2, 29) and year % 4:
            year = None  # nobody was born on 29/02 of a common year
        birthday = (born.day, born.month, year)
    visits = _visits(rng, now, zone)
    return _Member(
        name=f"{family} {middle} {given}",
        phone=phone,
        language="en" if rng.random() < ENGLISH_SHARE else "vi",
        birthday=birthday,
        consent=rng.random() < CONSENT_SHARE,
        joined_at=visits[0].at - timedelta(minutes=rng.randint(1, 4)),
        visits=visits,
    )


def _visits(rng: random.Random, now: datetime, zone: ZoneInfo) -> list[_Visit]:
    """A member's visits: they joined at the till on their first one, then came back at their own
    rate, in their own rhythm, until now or until they lapsed."""
    persona = rng.choices(PERSONAS, [p.share for p in PERSONAS])[0]
    mean_factor = sum(persona.weekdays) / 7
    weekly = min(rng.gammavariate(RATE_SHAPE, RATE_SCALE), MAX_WEEKLY_VISITS)
    home = 0 if rng.random() < FIRST_STORE_SHARE else 1
    faithful = rng.uniform(0.75, 0.97)
    favourites = rng.choices(DRINKS, [d.popularity for d in DRINKS], k=2)
    food_share = rng.uniform(0.05, 0.4)
    today = now.astimezone(zone).date()
    if rng.random() < LAUNCH_SHARE:
        days_ago = rng.randint(HISTORY_DAYS - 30, HISTORY_DAYS - 1)
    else:
        days_ago = rng.randint(1, HISTORY_DAYS - 1)
    joined = today - timedelta(days=days_ago)
    last = today
    if rng.random() < LAPSE_SHARE:
        last = joined + timedelta(days=rng.randint(0, days_ago))
    visits = [_visit(rng, joined, rng.choices(range(len(BANDS)), persona.bands)[0], zone, home)]
    day = joined + timedelta(days=1)
    while day <= last:
        mean = weekly / 7 * persona.weekdays[day.weekday()] / mean_factor
        bands = _pick_bands(rng, persona.bands, min(_poisson(rng, mean), MAX_VISITS_PER_DAY))
        for band in bands:
            store = home if rng.random() < faithful else 1 - home
            visit = _visit(rng, day, band, zone, store)
            if visit.at < now and visit.at - visits[-1].at >= MIN_GAP:
                visits.append(visit)
        day += timedelta(days=1)
    for visit in visits:
        visit.items, visit.amount = _order(rng, favourites, food_share)
    return visits


def _visit(rng: random.Random, day: date, band: int, zone: ZoneInfo, store: int) -> _Visit:
    start, end = BANDS[band]
    minute = rng.randrange(start, end)
    local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone)
    return _Visit(at=local.astimezone(UTC), store=store, amount=0, items=[])


def _pick_bands(rng: random.Random, weights: Sequence[float], k: int) -> list[int]:
    """``k`` different bands by weight, in time order (two visits a day are hours apart)."""
    left = list(range(len(weights)))
    chosen = []
    for _ in range(k):
        band = rng.choices(left, [weights[i] for i in left])[0]
        left.remove(band)
        chosen.append(band)
    return sorted(chosen)


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means of daily visits."""
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _order(
    rng: random.Random, favourites: Sequence[_Dish], food_share: float
) -> tuple[list[str], int]:
    """What a party ordered: a drink each (often a favourite), sometimes food. The bill is the
    sum of menu prices (so whole thousands of đồng), the cashier ticked at most three names."""
    party = rng.choices((1, 2, 3, 4), (60, 25, 10, 5))[0]
    dishes: list[_Dish] = []
    for _ in range(party):
        if rng.random() < 0.65:
            dishes.append(rng.choice(favourites))
        else:
            dishes.append(rng.choices(DRINKS, [d.popularity for d in DRINKS])[0])
        if rng.random() < food_share:
            dishes.append(rng.choices(FOODS, [d.popularity for d in FOODS])[0])
    while sum(d.price_vnd for d in dishes) > MAX_BILL_VND:
        dishes.pop()
    names = list(dict.fromkeys(d.name for d in dishes))[:MAX_ITEM_NAMES]
    return names, sum(d.price_vnd for d in dishes)


class _Window:
    """Points earned within ``width`` before a moment, as visits go by in time order (the tier
    window, or the points lifetime)."""

    def __init__(self, width: timedelta) -> None:
        self.width = width
        self.points: deque[tuple[datetime, int]] = deque()
        self.total = 0

    def add(self, at: datetime, points: int) -> None:
        self.points.append((at, points))
        self.total += points

    def at(self, moment: datetime) -> int:
        """The points earned after ``moment - width`` (moments must not go backwards)."""
        while self.points and self.points[0][0] <= moment - self.width:
            self.total -= self.points.popleft()[1]
        return self.total


def _price(
    visits: list[_Visit], tier_rules: Sequence[tiers.TierRule], vnd_per_point: int, now: datetime
) -> str:
    """Set each visit's points as ``award_purchase`` would have (the tier reached by the points
    earned in the preceding 12 months sets the multiplier). Returns the tier code at ``now``."""
    window = _Window(tiers.TIER_WINDOW)
    for visit in visits:
        multiplier = tiers.tier_for(window.at(visit.at), tier_rules).multiplier_pct
        visit.points = rules.points_for(visit.amount, vnd_per_point, multiplier)
        window.add(visit.at, visit.points)
    return tiers.tier_for(window.at(now), tier_rules).code


def _claim(
    rng: random.Random,
    visits: list[_Visit],
    now: datetime,
    tier_rules: Sequence[tiers.TierRule],
    lifetime: timedelta,
    stock: dict[int, int | None],
) -> _Claim | None:
    """A reward this member could afford (and whose tier they had) a few minutes after one of
    their visits, or None. ``stock`` is what the plan has left of each reward."""
    rank = {rule.code: rule.threshold for rule in tier_rules}
    tier_window, live = _Window(tiers.TIER_WINDOW), _Window(lifetime)
    options = []
    for index, visit in enumerate(visits):
        tier_window.add(visit.at, visit.points)
        live.add(visit.at, visit.points)
        at = visit.at + timedelta(minutes=rng.randint(2, 15))
        if at >= now:
            break
        tier = tiers.tier_for(tier_window.at(at), tier_rules).code
        balance = live.at(at)
        for number, reward in enumerate(REWARDS):
            allowed = reward.tier_code is None or rank[tier] >= rank[reward.tier_code]
            if reward.cost <= balance and allowed and stock[number] != 0:
                options.append((number, index, at))
    if not options:
        return None
    number, index, at = rng.choice(options)
    left = stock[number]
    if left is not None:
        stock[number] = left - 1
    reward = REWARDS[number]
    used = None
    if rng.random() < REDEEM_SHARE:
        expires = at + timedelta(days=reward.valid_days)
        used = next(
            (
                v
                for v in visits[index + 1 :]
                if v.at < expires and v.amount >= (reward.min_spend or 0)
            ),
            None,
        )
    return _Claim(
        reward=number,
        after=index,
        at=at,
        redeem_at=used.at - timedelta(minutes=1) if used else None,
        redeem_store=used.store if used else None,
    )


# ------------------------------------------------------------------------------ writing


async def _staff(external_id: str, name: str, role: str, store: Store | None) -> StaffMember:
    """A demo staff member on the console channel, so ``quen chat --as owner --user demo-owner``
    (or ``--as cashier --user demo-cashier-1``) continues as them."""
    account, _ = await ChannelAccount.get_or_create(
        channel=CHANNEL,
        external_id=external_id,
        defaults={"chat_id": external_id, "display_name": name, "language": "vi"},
    )
    return await StaffMember.create(
        account_id=account.id, role=role, store_id=store.id if store else None
    )


async def _add_reward(owner_account_id: int, reward: _Reward) -> int:
    created = await vouchers.add_reward(
        owner_account_id,
        title=reward.title,
        kind=reward.kind,
        value=reward.value,
        cost=reward.cost,
        valid_days=reward.valid_days,
        item_name=reward.item_name,
        min_spend=reward.min_spend,
        stock=reward.stock,
        tier_code=reward.tier_code,
    )
    return int(created.id)


async def _write_members(plan: list[_Member]) -> None:
    """The customers and the consent records joining writes. Balances start at zero: the till
    moves them with the history it writes, and tiers are the final ones (the plan knows them)."""
    await Customer.bulk_create(
        [
            Customer(
                display_name=m.name,
                language=m.language,
                phone=m.phone,
                birthday_day=m.birthday[0] if m.birthday else None,
                birthday_month=m.birthday[1] if m.birthday else None,
                birthday_year=m.birthday[2] if m.birthday else None,
                tier_code=m.tier_now,
                marketing_consent=m.consent,
                joined_at=m.joined_at,
            )
            for m in plan
        ],
        batch_size=BATCH,
    )
    ids = dict(await Customer.all().values_list("phone", "id"))
    for member in plan:
        member.customer_id = int(ids[member.phone])
    await ConsentRecord.bulk_create(
        [
            ConsentRecord(
                customer_id=m.customer_id,
                purpose=purpose,
                granted=granted,
                wording_version=CONSENT_WORDING_VERSION,
                language=m.language,
                channel="telegram",
                created_at=m.joined_at,
            )
            for m in plan
            for purpose, granted in ((MEMBERSHIP, True), (MARKETING, m.consent))
        ],
        batch_size=BATCH,
    )


@dataclass(frozen=True)
class _Till:
    """Writes planned visits as purchases, the way ``award_purchase`` would have left them."""

    stores: list[Store]
    cashiers: list[StaffMember]
    lifetime: timedelta

    async def write(self, spans: list[tuple[_Member, int, int]]) -> None:
        """Visits ``start:stop`` of each member: purchases, earn entries continuing the member's
        ledger from their cached balance, and lots; the cached balance moves by the same total
        (read and written inside the caller's transaction, so nothing moves it in between)."""
        customer_ids = [member.customer_id for member, _, _ in spans]
        opening = dict(
            await Customer.filter(id__in=customer_ids).values_list("id", "points_balance")
        )
        entries, balances = [], []
        for member, start, stop in spans:
            balance = int(opening[member.customer_id])
            for number in range(start, stop):
                visit = member.visits[number]
                if visit.points > 0:
                    balance += visit.points
                    entries.append(
                        LedgerEntry(
                            customer_id=member.customer_id,
                            kind=ledger.EARN,
                            points=visit.points,
                            balance_after=balance,
                            idempotency_key=f"purchase:{_key(member, number)}",
                            note=f"{visit.amount} VND",
                            created_at=visit.at,
                        )
                    )
            balances.append(Customer(id=member.customer_id, points_balance=balance))
        await Customer.bulk_update(balances, fields=["points_balance"], batch_size=BATCH)
        await LedgerEntry.bulk_create(entries, batch_size=BATCH)
        # bulk_create does not return ids: read them back by key (one query, not one per row).
        entry_ids = dict(
            await LedgerEntry.filter(customer_id__in=customer_ids, kind=ledger.EARN).values_list(
                "idempotency_key", "id"
            )
        )
        lots, purchases = [], []
        for member, start, stop in spans:
            for number in range(start, stop):
                visit, key = member.visits[number], _key(member, number)
                entry_id = entry_ids.get(f"purchase:{key}")
                if entry_id is not None:
                    lots.append(
                        PointsLot(
                            customer_id=member.customer_id,
                            entry_id=entry_id,
                            points=visit.points,
                            remaining=visit.points,
                            earned_at=visit.at,
                            expires_at=visit.at + self.lifetime,
                        )
                    )
                purchases.append(
                    Purchase(
                        customer_id=member.customer_id,
                        store_id=self.stores[visit.store].id,
                        cashier_id=self.cashiers[visit.store].id,
                        amount_vnd=visit.amount,
                        points=visit.points,
                        items=visit.items,
                        idempotency_key=key,
                        earn_entry_id=entry_id,
                        created_at=visit.at,
                        source="till",
                    )
                )
        await PointsLot.bulk_create(lots, batch_size=BATCH)
        await Purchase.bulk_create(purchases, batch_size=BATCH)


def _key(member: _Member, number: int) -> str:
    """The purchase's idempotency key (its earn entry's is ``purchase:`` + this, as at the till)."""
    return f"{KEY_PREFIX}{member.customer_id}:{number}"


async def _claims(plan: list[_Member], reward_ids: list[int], till: _Till, now: datetime) -> int:
    """Claim the planned rewards through the real catalog (the ledger then holds only the visits
    up to each claim), write the claimers' later visits, and redeem the vouchers that were used.
    Returns the number of vouchers."""
    claims = sorted(
        ((m, m.claim) for m in plan if m.claim is not None), key=lambda pair: pair[1].at
    )
    used: list[tuple[datetime, int, int]] = []
    for member, claim in claims:
        await tiers.refresh_tier(member.customer_id, claim.at)
        customer = await Customer.get(id=member.customer_id)
        issued = await vouchers.claim_reward(
            customer, reward_ids[claim.reward], at=claim.at, key=f"demo-claim:{customer.id}"
        )
        if claim.redeem_at is not None and claim.redeem_store is not None:
            used.append((claim.redeem_at, int(issued.voucher.id), claim.redeem_store))
    await till.write([(m, claim.after + 1, len(m.visits)) for m, claim in claims])
    for member, _ in claims:
        await tiers.refresh_tier(member.customer_id, now)
    for at, voucher_id, store in sorted(used):
        await vouchers.redeem(voucher_id, till.cashiers[store], at)
    return len(claims)
