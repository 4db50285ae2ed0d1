"""``quen check``: clean after real traffic, and every invariant named when the data is corrupted
behind the code's back (raw SQL, as a hand-edit or a bad restore would)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tortoise import connections

from locales import LANGUAGES, t
from loyalty import campaigns, ledger, outbox, vouchers
from loyalty.campaigns import Audience, OfferTerms
from loyalty.checks import Finding, broken, describe, invariants, rule_key, run_checks
from loyalty.purchases import award_purchase, undo_last
from loyalty.voice import Voice
from models.db import is_postgres
from models.members import Customer
from models.outbox import OutboxMessage
from models.purchases import Purchase
from tests.test_campaigns import seed_members
from tests.test_till_rules import AT, ZONE, make_cashier

#: When the checks look: three days after the traffic, so an expiry or a lease can be overdue.
CHECKED_AT = AT + timedelta(days=3)


async def real_traffic() -> None:
    """Purchases, an undo with and without a shortfall, claims, a redemption, a void, expiry, an
    adjustment and a campaign with a holdout, all through the code's own functions."""
    members = await seed_members(24)
    cashier = await make_cashier()
    owner = await make_cashier(role="owner", external="1")
    for number, member in enumerate(members[:8]):
        for visit in range(3):
            await award_purchase(
                member,
                60_000 + 10_000 * visit,
                cashier=cashier,
                key=f"m{number}v{visit}",
                at=AT - timedelta(days=400 - 100 * visit),
                zone=ZONE,
            )
    first, second, third = members[0], members[1], members[2]
    await ledger.expire_due(first.id, AT - timedelta(days=20))  # the oldest lot ran out
    await award_purchase(first, 90_000, cashier=cashier, key="undo-me", at=AT, zone=ZONE)
    await undo_last(cashier, AT + timedelta(minutes=1))
    await award_purchase(second, 90_000, cashier=cashier, key="spent", at=AT, zone=ZONE)
    await ledger.spend(second.id, 150, at=AT + timedelta(minutes=1))
    await undo_last(cashier, AT + timedelta(minutes=2))  # some points already spent
    await ledger.adjust(third.id, -10, at=AT, reason="typo", key="adj-1")
    await ledger.adjust(third.id, 25, at=AT, reason="gift", key="adj-2")
    reward = await vouchers.add_reward(
        owner.account_id, title="Bạc xỉu", kind="item", value=0, cost=40, valid_days=30
    )
    claimed = []
    for member in members[3:7]:
        fresh = await Customer.get(id=member.id)
        claimed.append(await vouchers.claim_reward(fresh, reward.id, at=AT, key=f"c{member.id}"))
    await vouchers.redeem(claimed[0].voucher.id, cashier, AT + timedelta(hours=1))
    await vouchers.void(claimed[1].voucher, owner.account_id, AT + timedelta(hours=1))
    offer = OfferTerms(title="Giảm 20%", kind="percent", value=20)
    draft = await campaigns.create(
        owner,
        Audience(campaigns.SEGMENT, "at-risk"),
        offer,
        valid_until=AT + timedelta(days=14),
        holdout_pct=20,
        send_mode=campaigns.NOW,
        send_at=None,
        now=AT,
    )
    await campaigns.approve(draft.id, AT)
    await campaigns.prepare(draft.id, Voice("Quen").writer(), AT, ZONE)
    for expired in await ledger.customers_with_expired_lots(CHECKED_AT):  # the nightly job
        await ledger.expire_due(expired, CHECKED_AT)


def failing(findings: list[Finding]) -> set[str]:
    return {finding.name for finding in findings if not finding.ok}


async def test_a_shop_after_real_traffic_passes(db: str) -> None:
    await real_traffic()
    assert await Purchase.filter(voided_at__isnull=False).count() == 2
    findings = await run_checks(CHECKED_AT)
    assert failing(findings) == set(), describe(findings, "en")
    assert not broken(findings)
    assert describe(findings, "vi").endswith(" giây: tất cả đều đúng")
    assert describe(findings, "en").endswith(" s: all hold")
    assert describe(findings, "vi").startswith("ổn        balance_equals_ledger\n")
    assert describe(findings, "en").startswith("ok    balance_equals_ledger\n")


def _set(table: str, assignment: str, where: str = "1 = 1") -> list[str]:
    """One UPDATE of the row of ``table`` with the smallest id matching ``where``."""
    return [
        f"UPDATE {table} SET {assignment} WHERE id = (SELECT MIN(id) FROM {table} WHERE {where})"
    ]


#: (invariant expected to fail, statements that break it behind the code's back)
CORRUPTIONS: list[tuple[str, list[str]]] = [
    ("balance_equals_ledger", _set("customer", "points_balance = points_balance + 5")),
    (
        "balance_equals_lots",
        _set("points_lot", "remaining = remaining - 1, points = points - 1", "remaining > 1"),
    ),
    (
        "balance_not_negative",
        _set("customer", "points_balance = -3", "id NOT IN (SELECT customer_id FROM ledger_entry)"),
    ),
    ("balance_after_running_sum", _set("ledger_entry", "balance_after = balance_after + 1")),
    ("lot_remaining_in_range", _set("points_lot", "remaining = -1")),
    (
        "lot_remaining_matches_draws",
        _set("points_lot", "remaining = remaining - 1", "remaining > 0"),
    ),
    ("debit_matches_draws", _set("lot_draw", "points = points + 1")),
    (
        "credit_fills_one_lot",
        [
            "INSERT INTO points_lot (customer_id, entry_id, points, remaining, earned_at,"
            " expires_at) SELECT customer_id, entry_id, 1, 1, earned_at, expires_at"
            " FROM points_lot WHERE id = (SELECT MIN(id) FROM points_lot)"
        ],
    ),
    (
        "draw_same_member",
        _set(
            "lot_draw",
            "lot_id = (SELECT MIN(l.id) FROM points_lot l JOIN ledger_entry e"
            " ON e.id = lot_draw.entry_id WHERE l.customer_id <> e.customer_id)",
        ),
    ),
    (
        "draw_respects_expiry",
        [
            "UPDATE points_lot SET expires_at = earned_at WHERE id IN (SELECT d.lot_id"
            " FROM lot_draw d JOIN ledger_entry e ON e.id = d.entry_id WHERE e.kind = 'spend')"
        ],
    ),
    ("expiry_overdue", _set("points_lot", "expires_at = earned_at", "remaining > 0")),
    (
        "voucher_redeemed_iff_redeemed_at",
        _set("voucher", "redeemed_at = NULL", "status = 'redeemed'"),
    ),
    (
        "voucher_paid_once",
        _set(
            "voucher",
            "spend_entry_id = (SELECT MIN(spend_entry_id) FROM voucher)",
            "spend_entry_id IS NOT NULL AND status = 'issued'",
        ),
    ),
    ("voucher_spend_has_voucher", _set("voucher", "spend_entry_id = NULL", "reason = 'reward'")),
    (
        "voucher_refund_iff_voided",
        _set("voucher", "status = 'redeemed', redeemed_at = issued_at", "status = 'voided'"),
    ),
    (
        "refund_has_voucher",
        _set("ledger_entry", "idempotency_key = 'refund:999999'", "kind = 'refund'"),
    ),
    ("purchase_earned_its_points", _set("purchase", "points = points + 1", "voided_at IS NULL")),
    (
        "voided_purchase_reversed",
        _set(
            "purchase",
            "voided_at = created_at",
            "voided_at IS NULL AND earn_entry_id IN"
            " (SELECT entry_id FROM points_lot WHERE remaining > 0)",
        ),
    ),
    ("voided_purchase_reversed", ["UPDATE purchase SET voided_at = NULL"]),
    (
        "voided_purchase_reversed",
        _set("ledger_entry", "kind = 'spend'", "kind = 'earn_reversal'"),
    ),
    ("outbox_has_account", _set("outbox_message", "account_id = NULL, status = 'queued'")),
    (
        "outbox_has_customer",
        [
            "UPDATE customer SET deleted_at = joined_at WHERE id = (SELECT MIN(customer_id)"
            " FROM outbox_message WHERE status = 'queued')"
        ],
    ),
    (
        "outbox_has_voucher",
        _set("outbox_message", """payload = '{"voucher": 999999}'""", "customer_id IS NOT NULL"),
    ),
    (
        "outbox_stale_lease",
        _set("outbox_message", "status = 'claimed', claimed_by = 'gone', lease_until = created_at"),
    ),
    (
        "campaign_voucher_in_sent_arm",
        _set("campaign_member", "holdout = TRUE", "voucher_id IS NOT NULL"),
    ),
]


async def corrupt(statements: list[str]) -> None:
    connection = connections.get("default")
    for statement in statements:
        await connection.execute_query(statement)


@pytest.mark.parametrize(("name", "statements"), CORRUPTIONS, ids=[name for name, _ in CORRUPTIONS])
async def test_each_corruption_is_named(db: str, name: str, statements: list[str]) -> None:
    await real_traffic()
    await corrupt(statements)
    findings = {finding.name: finding for finding in await run_checks(CHECKED_AT)}
    assert not findings[name].ok, describe(list(findings.values()), "en")
    assert 1 <= len(findings[name].examples) <= findings[name].count
    assert broken(list(findings.values())) != findings[name].warning
    for language in LANGUAGES:
        report = describe(list(findings.values()), language)
        assert f"{name}: " in report
        assert t(language, "check-rule", rule=t(language, rule_key(name))) in report


def test_every_invariant_says_its_rule_in_both_languages() -> None:
    for invariant in invariants(False):
        vi, en = t("vi", rule_key(invariant.name)), t("en", rule_key(invariant.name))
        assert vi and en and vi != en, invariant.name


def test_the_report_in_each_language() -> None:
    """The same facts in both languages; identifiers (invariant, table) stay as they are."""
    findings = [
        Finding("balance_equals_ledger", "customer", 0, (), False, 0.2),
        Finding("balance_not_negative", "customer", 12, tuple(range(1, 11)), False, 0.5),
        Finding("expiry_overdue", "points_lot", 1, (7,), True, 0.1),
    ]
    assert describe(findings, "vi").splitlines() == [
        "ổn        balance_equals_ledger",
        "LỖI       balance_not_negative: 12 dòng customer, ví dụ id 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,"
        " ...",
        "          quy tắc: không thành viên nào có points_balance dưới 0",
        "CẢNH BÁO  expiry_overdue: 1 dòng points_lot, ví dụ id 7",
        "          quy tắc: điểm của các lô hết hạn hơn hai ngày trước đã được tác vụ ban đêm"
        " trừ đi",
        "Đã kiểm tra 3 quy tắc trong 0,8 giây: 1 lỗi, 1 cảnh báo",
    ]
    assert describe(findings, "en").splitlines() == [
        "ok    balance_equals_ledger",
        "FAIL  balance_not_negative: 12 customer rows, e.g. id 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ...",
        "      rule: no member's points_balance is below zero",
        "WARN  expiry_overdue: 1 points_lot row, e.g. id 7",
        "      rule: points of lots expired more than two days ago were written off by the"
        " nightly job",
        "3 invariants checked in 0.8 s: 1 broken, 1 warning",
    ]


def test_every_invariant_has_a_corruption_test() -> None:
    corrupted = {name for name, _ in CORRUPTIONS} | {"outbox_dedupe_unique"}
    assert {invariant.name for invariant in invariants(False)} == corrupted


async def test_duplicate_dedupe_keys_are_found_if_the_index_is_gone(db: str) -> None:
    """The unique index makes a duplicate impossible, which is why the check exists: a restore
    without indexes, or a migration that lost one. SQLite cannot drop a table's inline UNIQUE."""
    if not is_postgres():
        pytest.skip("SQLite cannot drop the inline unique constraint to make a duplicate")
    await real_traffic()
    connection = connections.get("default")
    rows = await connection.execute_query_dict(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'outbox_message'::regclass"
        " AND contype = 'u'"
    )
    (constraint,) = [row["conname"] for row in rows]
    await connection.execute_query(f'ALTER TABLE outbox_message DROP CONSTRAINT "{constraint}"')
    try:
        first = await OutboxMessage.filter(account_id__isnull=False).order_by("id").first()
        assert first is not None
        await connection.execute_query(
            "INSERT INTO outbox_message (account_id, customer_id, kind, marketing, dedupe_key,"
            " payload, status, reason, attempts, created_at, not_before) SELECT account_id,"
            " customer_id, kind, marketing, dedupe_key, payload, 'sent', reason, attempts,"
            f" created_at, not_before FROM outbox_message WHERE id = {first.id}"
        )
        findings = {finding.name: finding for finding in await run_checks(CHECKED_AT)}
        assert findings["outbox_dedupe_unique"].count == 2
        assert first.id in findings["outbox_dedupe_unique"].examples
    finally:
        await connection.execute_query(
            "DELETE FROM outbox_message WHERE id > (SELECT MIN(id) FROM outbox_message o"
            " WHERE o.account_id = outbox_message.account_id"
            " AND o.dedupe_key = outbox_message.dedupe_key)"
        )
        await connection.execute_query(
            f'ALTER TABLE outbox_message ADD CONSTRAINT "{constraint}"'
            " UNIQUE (account_id, dedupe_key)"
        )


#: Chat ids for the property test's members: hypothesis runs every example in one database.
CHATS = itertools.count(1000)

operations = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.integers(1, 300), st.integers(0, 200)),
        st.tuples(st.just("spend"), st.integers(1, 400), st.integers(0, 200)),
        st.tuples(st.just("expire"), st.just(0), st.integers(0, 400)),
        st.tuples(st.just("take_back"), st.integers(0, 30), st.integers(0, 30)),
        st.tuples(st.just("adjust"), st.integers(-200, 200), st.integers(0, 30)),
        st.tuples(st.just("notice"), st.just(0), st.just(0)),
    ),
    min_size=1,
    max_size=20,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations, members=st.integers(1, 3))
async def test_any_ledger_history_leaves_check_clean(
    db: str, ops: list[tuple[str, int, int]], members: int
) -> None:
    """Random histories through the ledger's own functions, over a few members (and the outbox
    notices that go with them): no invariant ever breaks. Warnings may appear (an expiry the
    history skipped), errors never."""
    ids = [(await seed_members(1, first=next(CHATS)))[0].id for _ in range(members)]
    at = AT
    earned: list[ledger.LedgerEntry] = []
    for step, (op, points, days) in enumerate(ops):
        at += timedelta(days=days)
        cid = ids[step % members]
        try:
            if op == "earn":
                earned.append(await ledger.earn(cid, points, at=at, key=f"e{step}-{cid}"))
            elif op == "spend":
                await ledger.spend(cid, points, at=at, key=f"s{step}-{cid}")
            elif op == "expire":
                await ledger.expire_due(cid, at)
            elif op == "take_back" and earned:
                await ledger.take_back(earned[points % len(earned)], at=at, key=f"t{step}-{cid}")
            elif op == "adjust" and points:
                await ledger.adjust(cid, points, at=at, reason="x", key=f"a{step}-{cid}")
            elif op == "notice":
                await outbox.to_member(cid, outbox.Draft("test", f"n{step}", []), at)
        except ledger.NotEnoughPoints:
            pass
    findings = await run_checks(at)
    assert not broken(findings), describe(findings, "en")
