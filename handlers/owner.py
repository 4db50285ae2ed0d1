"""The owner's levers in chat: ``/settings`` for the program's rules, ``/adjust`` for corrections.

Both are owner-only, checked against the role read for this very message, and audited.
"""

from __future__ import annotations

from handlers.session import Session, shown_name
from handlers.types import Reply
from locales import format_vnd
from loyalty import audit, ledger, menu, rules, tiers
from loyalty.phones import to_e164
from models.members import Customer
from models.rewards import Reward
from models.staff import ProgramRules


async def show_or_change_settings(session: Session) -> list[Reply]:
    words = session.incoming.args.split()
    if words:
        try:
            await rules.change(session.account.id, words[0].lower(), words[1:])
        except rules.RuleError as error:
            return [session.reply(f"settings-error-{error.reason}")]
        replies = [session.reply("settings-changed")]
    else:
        replies = []
    return [*replies, Reply(await _describe(session))]


async def _describe(session: Session) -> str:
    program = await rules.current()
    lines = [
        session.say(
            "settings-summary",
            earn=format_vnd(program.earn_vnd_per_point, session.language),
            months=program.points_lifetime_days * 12 // 365,
            maxbill=format_vnd(program.max_purchase_vnd, session.language),
            alert=program.daily_purchases_alert,
            referrer=program.referral_points_referrer,
            friend=program.referral_points_friend,
        )
    ]
    for tier in await tiers.current_rules():
        lines.append(
            session.say(
                "settings-tier",
                code=tier.code,
                tier=tier.name(session.language),
                threshold=tier.threshold,
                multiplier=tier.multiplier_pct,
            )
        )
    lines += await _offer_lines(session, program)
    lines.append(session.say("settings-help"))
    lines.append(session.say("settings-offers-help"))
    return "\n".join(lines)


async def _offer_lines(session: Session, program: ProgramRules) -> list[str]:
    """What the scheduler gives, with a warning when the chosen reward would be skipped."""
    lines = []
    for name, reward_id, days in (
        ("birthday", program.birthday_reward_id, program.birthday_days_ahead),
        ("winback", program.winback_reward_id, program.winback_days),
    ):
        if reward_id is None:
            lines.append(session.say(f"settings-{name}-off", days=days))
            continue
        reward = await Reward.get_or_none(id=reward_id)
        title = reward.title if reward is not None else "—"
        lines.append(session.say(f"settings-{name}", title=title, id=str(reward_id), days=days))
        if reward is None or not reward.active:
            lines.append(session.say("settings-offer-unavailable", id=str(reward_id)))
    return lines


async def menu_command(session: Session) -> list[Reply]:
    """``/menu``, ``/menu add <name>``, ``/menu remove <number>``."""
    args = session.incoming.args
    verb, _, rest = args.partition(" ")
    try:
        if verb.lower() == "add":
            item = await menu.add_item(session.account.id, rest)
            replies = [session.reply("menu-added", name=item.name)]
        elif verb.lower() == "remove" and rest.strip().isdigit():
            item = await menu.remove_item(session.account.id, int(rest))
            replies = [session.reply("menu-removed", name=item.name)]
        elif args:
            return [session.reply("menu-help")]
        else:
            replies = []
    except menu.MenuError as error:
        return [session.reply(f"menu-error-{error.reason}", max=menu.MAX_ITEMS)]
    listed = await menu.items()
    if not listed:
        return [*replies, session.reply("menu-empty")]
    lines = [session.say("menu-title")]
    lines += [session.say("stores-line", id=str(item.id), name=item.name) for item in listed]
    lines.append(session.say("menu-help"))
    return [*replies, Reply("\n".join(lines))]


async def adjust(session: Session) -> list[Reply]:
    """``/adjust <phone> <+/-points> <reason>``."""
    parts = session.incoming.args.split(maxsplit=2)
    if len(parts) < 3:
        return [session.reply("adjust-format")]
    phone, amount, reason = to_e164(parts[0]), parts[1], parts[2].strip()
    if phone is None or not amount.lstrip("+-").isdigit() or amount[:1] not in "+-":
        return [session.reply("adjust-format")]
    delta = int(amount)
    member = await Customer.get_or_none(phone=phone, deleted_at__isnull=True)
    if member is None:
        return [session.reply("till-find-none")]
    event = session.incoming.event_id
    try:
        entry = await ledger.adjust(
            member.id,
            delta,
            at=session.now,
            reason=reason,
            key=f"adjust:{event}" if event else None,
        )
    except ledger.NotEnoughPoints as short:
        return [session.reply("adjust-too-much", balance=short.balance)]
    except ledger.LedgerError:
        return [session.reply("adjust-format")]
    await audit.record(
        session.account.id, "points.adjust", str(member.id), points=delta, reason=reason[:200]
    )
    return [
        session.reply(
            "adjust-done",
            name=shown_name(member),
            points=f"{delta:+d}",
            balance=int(entry.balance_after),
        )
    ]
