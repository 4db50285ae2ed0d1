"""The program's owner-editable rules (earn rate, expiry, limits), one row in ``program_rules``."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError

from loyalty import audit
from models.ledger import Tier
from models.rewards import Reward
from models.staff import ProgramRules

RULES_ID = 1


async def current() -> ProgramRules:
    """The rules in force, created with the defaults on first use."""
    rules = await ProgramRules.get_or_none(id=RULES_ID)
    if rules is None:
        try:
            rules = await ProgramRules.create(id=RULES_ID)
        except IntegrityError:
            rules = await ProgramRules.get(id=RULES_ID)
    return rules


def points_for(amount_vnd: int, vnd_per_point: int, multiplier_pct: int) -> int:
    """Points for a bill: whole points at the base rate, then the tier multiplier, rounded down.

    Rounding down at each step keeps the arithmetic integer and never gives more than promised:
    85.000 ₫ at 1 point per 1.000 ₫ and Gold (125 %) is 85 * 125 // 100 = 106 points.
    """
    return (amount_vnd // vnd_per_point) * multiplier_pct // 100


class RuleError(ValueError):
    """A rule change was refused. ``reason`` picks the message shown to the owner."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


#: ``/settings <name> <values...>``: how many whole-number values each rule takes.
RULE_ARITY = {"earn": 1, "expiry": 1, "maxbill": 1, "alert": 1, "referral": 2, "tier": 3}
MIN_MULTIPLIER, MAX_MULTIPLIER = 100, 500
#: ``/settings birthday|winback <reward id|off> [days]``: the days each accepts (birthday: how
#: long before the birthday the voucher goes out; win-back: how long a member has been away).
OFFER_DAYS = {"birthday": (0, 30), "winback": (7, 365)}
OFF = "off"


def _numbers(values: list[str], count: int) -> list[int]:
    if len(values) != count:
        raise RuleError("format")
    try:
        numbers = [int(v.replace(".", "").replace(",", "")) for v in values]
    except ValueError:
        raise RuleError("format") from None
    if any(n < 0 for n in numbers):
        raise RuleError("format")
    return numbers


async def change(actor_account_id: int, name: str, values: list[str]) -> None:
    """Apply one owner edit (from now on: nothing already earned is recalculated), audited."""
    if name in OFFER_DAYS:
        await _change_offer(actor_account_id, name, values)
        return
    if name not in RULE_ARITY:
        raise RuleError("unknown")
    if name == "tier":
        if len(values) != 3:
            raise RuleError("format")
        await _change_tier(actor_account_id, values[0].lower(), _numbers(values[1:], 2))
        return
    numbers = _numbers(values, RULE_ARITY[name])
    program = await current()
    before = {
        "earn": program.earn_vnd_per_point,
        "expiry": program.points_lifetime_days,
        "maxbill": program.max_purchase_vnd,
        "alert": program.daily_purchases_alert,
        "referral": [program.referral_points_referrer, program.referral_points_friend],
    }[name]
    if name == "earn":
        if numbers[0] < 1:
            raise RuleError("format")
        program.earn_vnd_per_point = numbers[0]
    elif name == "expiry":
        if not 1 <= numbers[0] <= 60:
            raise RuleError("expiry-range")
        program.points_lifetime_days = numbers[0] * 365 // 12
    elif name == "maxbill":
        if numbers[0] < 1000:
            raise RuleError("format")
        program.max_purchase_vnd = numbers[0]
    elif name == "alert":
        program.daily_purchases_alert = numbers[0]
    else:
        program.referral_points_referrer, program.referral_points_friend = numbers
    await program.save()
    await audit.record(actor_account_id, "rules.change", name, before=before, after=numbers)


async def _change_tier(actor_account_id: int, code: str, numbers: list[int]) -> None:
    threshold, multiplier = numbers
    tier = await Tier.get_or_none(code=code)
    if tier is None:
        raise RuleError("tier-unknown")
    if not MIN_MULTIPLIER <= multiplier <= MAX_MULTIPLIER:
        raise RuleError("multiplier-range")
    others = await Tier.exclude(id=tier.id).order_by("threshold")
    lowest = min([t.threshold for t in others] + [tier.threshold])
    if tier.threshold == lowest and threshold != tier.threshold:
        raise RuleError("tier-lowest")
    if any(t.threshold == threshold for t in others):
        raise RuleError("tier-clash")
    before = [int(tier.threshold), tier.multiplier_pct]
    tier.threshold, tier.multiplier_pct = threshold, multiplier
    await tier.save()
    await audit.record(actor_account_id, "rules.tier", code, before=before, after=numbers)


async def _offer_reward_id(choice: str) -> int | None:
    """``off`` or the id of a reward that exists and is not paused (a paused one would make the
    job skip every day, so it is refused now rather than failing silently later)."""
    if choice == OFF:
        return None
    number = choice.removeprefix("#")
    if not (number.isascii() and number.isdigit()) or len(number) > 9:
        raise RuleError("format")
    reward = await Reward.get_or_none(id=int(number))
    if reward is None:
        raise RuleError("reward-unknown")
    if not reward.active:
        raise RuleError("reward-paused")
    return int(reward.id)


async def _change_offer(actor_account_id: int, name: str, values: list[str]) -> None:
    """``birthday`` or ``winback``: which reward the scheduler gives, and optionally the days."""
    if not 1 <= len(values) <= 2:
        raise RuleError("format")
    reward_id = await _offer_reward_id(values[0].lower())
    program = await current()
    days = program.birthday_days_ahead if name == "birthday" else program.winback_days
    if len(values) == 2:
        days = _numbers(values[1:], 1)[0]
        low, high = OFFER_DAYS[name]
        if not low <= days <= high:
            raise RuleError(f"{name}-days")
    if name == "birthday":
        before = [program.birthday_reward_id, program.birthday_days_ahead]
        program.birthday_reward_id, program.birthday_days_ahead = reward_id, days
    else:
        before = [program.winback_reward_id, program.winback_days]
        program.winback_reward_id, program.winback_days = reward_id, days
    await program.save()
    await audit.record(
        actor_account_id, "rules.change", name, before=before, after=[reward_id, days]
    )
