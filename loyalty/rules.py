"""The program's owner-editable rules (earn rate, expiry, limits), one row in ``program_rules``."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError

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
