"""The transactional messages the bot sends on its own: what each says and once per what.

Each function returns an ``outbox.Draft`` (message keys and facts, no text); the caller queues it
in the transaction that made the change, so the notice exists exactly when its cause does.
"""

from __future__ import annotations

from loyalty.outbox import Draft, Line, member, staff, tier, vnd


def earned(
    purchase_id: int,
    *,
    amount: int,
    points: int,
    balance: int,
    friend_points: int,
    new_tier: str | None,
    next_tier: tuple[str, int] | None,
) -> Draft:
    """Points for a bill, with a welcome bonus, a tier-up and the way to the next tier."""
    lines: list[Line] = [
        ("notice-earned", {"points": points, "amount": vnd(amount), "balance": balance})
    ]
    if friend_points:
        lines.append(("notice-referral-friend", {"points": friend_points}))
    if new_tier is not None:
        lines.append(("notice-tier-up", {"tier": tier(new_tier)}))
    if next_tier is not None:
        code, to_go = next_tier
        lines.append(("points-to-next", {"points": to_go, "tier": tier(code)}))
    return Draft("earned", f"earned:{purchase_id}", lines)


def referral_thanks(friend_id: int, points: int) -> Draft:
    return Draft(
        "referral",
        f"referral:{friend_id}",
        [("notice-referral-referrer", {"points": points, "name": member(friend_id)})],
    )


def undone(purchase_id: int, *, amount: int, points: int, balance: int) -> Draft:
    return Draft(
        "undone",
        f"undone:{purchase_id}",
        [("notice-undone", {"amount": vnd(amount), "points": points, "balance": balance})],
    )


def many_purchases(purchase_id: int, customer_id: int, count: int, cashier_account: int) -> Draft:
    return Draft(
        "alert",
        f"alert-purchases:{purchase_id}",
        [
            (
                "alert-many-purchases",
                {"name": member(customer_id), "count": count, "cashier": staff(cashier_account)},
            )
        ],
    )


def code_guessing(staff_id: int, locked_at: str, cashier_account: int) -> Draft:
    return Draft(
        "alert",
        f"alert-guessing:{staff_id}:{locked_at}",
        [("alert-code-guessing", {"cashier": staff(cashier_account)})],
    )


def voucher_used(voucher_id: int, title: str) -> Draft:
    return Draft(
        "voucher-used", f"voucher-used:{voucher_id}", [("voucher-notice-used", {"title": title})]
    )


def voucher_voided(voucher_id: int, title: str, points: int) -> Draft:
    return Draft(
        "voucher-voided",
        f"voucher-voided:{voucher_id}",
        [("voucher-notice-voided", {"title": title, "points": points})],
    )


def staff_removed(staff_id: int) -> Draft:
    """Told to the person removed; their chat's command menu goes back to a customer's."""
    return Draft(
        "staff-removed",
        f"staff-removed:{staff_id}",
        [("staff-you-were-removed", {})],
        reset_menu=True,
    )
