"""The POS API over HTTP: keys, purchases with idempotency keys, refunds, members, vouchers, and
the refusals (auth, limits, malformed or oversize bodies, bad amounts, races)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from bot.api import MAX_BODY_BYTES
from bot.app import QuenApp
from bot.settings import Settings
from loyalty import api_keys, idempotency, referrals, vouchers
from loyalty.members import hash_token
from models.api import ApiKey
from models.audit import AuditEntry
from models.members import Customer, MemberCard
from models.purchases import Purchase
from models.rewards import Voucher
from models.staff import Store
from tests.conftest import FakeClock
from tests.pos import Pos, bill, open_shop, pos, serve_api

__all__ = ["pos"]  # the fixture


async def balance(member: Customer) -> int:
    return int((await Customer.get(id=member.id)).points_balance)


async def test_purchase_by_phone_card_and_code(pos: Pos) -> None:
    status, body = await pos.purchase(bill(85_000))
    assert status == 201
    assert body["points_earned"] == 85 and body["balance"] == 85
    assert body["receipt_id"] == "R-1" and body["member_id"] == pos.lan.id
    assert body["tier"] == "member"

    status, body = await pos.purchase(bill(10_000, card_token=f"m_{pos.card}"), idem="k2")
    assert (status, body["balance"]) == (201, 95)
    code = await referrals.code_of(pos.lan)
    status, body = await pos.purchase(bill(5_000, member_code=code.lower()), idem="k3")
    assert (status, body["balance"]) == (201, 100)

    recorded = await Purchase.filter(customer_id=pos.lan.id).order_by("id")
    assert [p.source for p in recorded] == ["api"] * 3
    assert {p.store_id for p in recorded} == {pos.store_a.id}
    key = await ApiKey.get(store_id=pos.store_a.id)
    assert {p.cashier_id for p in recorded} == {key.staff_id}
    assert key.last_used_at is not None
    actions = await AuditEntry.filter(action="purchase.record").count()
    assert actions == 3


async def test_replay_returns_the_first_answer(pos: Pos) -> None:
    first = await pos.purchase(bill(85_000), idem="same")
    replay = await pos.purchase(bill(85_000), idem="same")
    assert replay == first
    assert await Purchase.all().count() == 1
    assert await balance(pos.lan) == 85

    status, body = await pos.purchase(bill(99_000), idem="same")
    assert (status, body["error"]["code"]) == (422, "idempotency_key_reused")
    assert await Purchase.all().count() == 1

    # Another store's key has its own keys: "same" is a new purchase there.
    status, _ = await pos.purchase(bill(1_000), idem="same", key=pos.key_b)
    assert status == 201
    assert await Purchase.all().count() == 2


async def test_a_refused_purchase_leaves_its_key_free(pos: Pos) -> None:
    status, body = await pos.purchase(bill(phone="0987654321"), idem="retry")
    assert (status, body["error"]["code"]) == (404, "member_not_found")
    await Customer.filter(id=pos.lan.id).update(phone="+84987654321")
    status, body = await pos.purchase(bill(phone="0987654321"), idem="retry")
    assert status == 201


async def test_idempotency_key_is_required(pos: Pos) -> None:
    async with pos.http.post("/api/v1/purchases", json=bill(), headers=pos.auth()) as response:
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "idempotency_key_required"
    assert not await Purchase.exists()


@pytest.mark.parametrize(
    "amount", [-1, 0, 10**13, 85_000.5, 85_000.0, "85000", True, None, 6_000_000]
)
async def test_bad_amounts_change_nothing(pos: Pos, amount: Any) -> None:
    status, body = await pos.purchase(bill(amount))
    assert status == 422
    expected = "amount_too_large" if amount == 6_000_000 else "validation_error"
    assert body["error"]["code"] == expected
    assert not await Purchase.exists()
    assert await balance(pos.lan) == 0


@pytest.mark.parametrize(
    ("member", "code"),
    [
        ({}, "validation_error"),
        ({"phone": "0912345678", "member_code": "ABCDEFGH"}, "validation_error"),
        ({"phone": "12"}, "invalid_phone"),
        ({"card_token": "m_nope"}, "member_not_found"),
    ],
)
async def test_member_must_be_named_once(pos: Pos, member: dict[str, str], code: str) -> None:
    body = {"amount_vnd": 85_000, "receipt_id": "R-1", **member}
    status, answer = await pos.purchase(body)
    assert answer["error"]["code"] == code
    assert status == (404 if code == "member_not_found" else 422)
    assert not await Purchase.exists()


async def test_malformed_and_oversize_bodies(pos: Pos) -> None:
    headers = pos.auth(**{"Idempotency-Key": "k", "Content-Type": "application/json"})
    async with pos.http.post("/api/v1/purchases", data=b"{amount", headers=headers) as response:
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "malformed_json"
    huge = b'{"items": ["' + b"x" * MAX_BODY_BYTES + b'"]}'
    async with pos.http.post("/api/v1/purchases", data=huge, headers=headers) as response:
        assert response.status == 413
        assert (await response.json())["error"]["code"] == "body_too_large"

    async def chunks() -> Any:  # no Content-Length: the limit still holds
        for _ in range(4):
            yield b" " * MAX_BODY_BYTES

    async with pos.http.post("/api/v1/purchases", data=chunks(), headers=headers) as response:
        assert response.status == 413
    assert not await Purchase.exists()


async def test_missing_wrong_and_revoked_keys(pos: Pos, clock: FakeClock) -> None:
    async with pos.http.get("/api/v1/members/lookup?phone=0912345678") as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await response.json())["error"]["code"] == "missing_api_key"
    status, body = await pos.call("GET", "/api/v1/members/lookup?phone=0912345678", "quen_live_x")
    assert (status, body["error"]["code"]) == (401, "invalid_api_key")

    key = await ApiKey.get(store_id=pos.store_a.id)
    await api_keys.revoke(key.id, actor_account_id=None, at=clock())
    status, body = await pos.purchase(bill())
    assert (status, body["error"]["code"]) == (401, "revoked_api_key")
    assert not await Purchase.exists()
    with pytest.raises(api_keys.ApiKeyError, match="already-revoked"):
        await api_keys.revoke(key.id, actor_account_id=None, at=clock())


async def test_key_is_stored_hashed(pos: Pos) -> None:
    assert pos.key_a.startswith("quen_live_") and len(pos.key_a) == len("quen_live_") + 43
    stored = await ApiKey.get(store_id=pos.store_a.id)
    assert stored.key_hash == api_keys.hash_key(pos.key_a)
    assert pos.key_a not in str(await ApiKey.all().values())


async def test_refund_takes_the_points_back_once(pos: Pos) -> None:
    _, first = await pos.purchase(bill(85_000))
    path = f"/api/v1/purchases/{first['purchase_id']}/refund"

    status, body = await pos.call("POST", path, pos.key_b)  # another store's key
    assert (status, body["error"]["code"]) == (404, "purchase_not_found")
    assert await balance(pos.lan) == 85

    status, body = await pos.call("POST", path)
    assert status == 200
    assert (body["points_reversed"], body["points_shortfall"], body["balance"]) == (85, 0, 0)
    assert await pos.call("POST", path) == (200, body)
    assert await balance(pos.lan) == 0
    assert await AuditEntry.filter(action="purchase.refund").count() == 1
    status, body = await pos.call("POST", "/api/v1/purchases/99999999999999999999/refund")
    assert (status, body["error"]["code"]) == (404, "purchase_not_found")


async def test_member_lookup(pos: Pos) -> None:
    status, body = await pos.call("GET", "/api/v1/members/lookup?phone=0912%20345%20678")
    assert status == 200
    assert body == {
        "member_id": pos.lan.id,
        "name": "Lan",
        "phone": "+84912345678",
        "tier": "member",
        "balance": 0,
    }
    status, body = await pos.call("GET", "/api/v1/members/lookup?phone=0900000000")
    assert (status, body["error"]["code"]) == (404, "member_not_found")
    status, body = await pos.call("GET", "/api/v1/members/lookup?phone=hello")
    assert (status, body["error"]["code"]) == (422, "invalid_phone")
    status, body = await pos.call("GET", "/api/v1/members/lookup")
    assert (status, body["error"]["code"]) == (422, "validation_error")


async def _voucher(pos: Pos, clock: FakeClock, key: str = "bday") -> vouchers.Issued:
    return await vouchers.issue(
        pos.lan.id,
        reason="birthday",
        title="Free cà phê",
        kind="item",
        value=0,
        valid_days=7,
        at=clock(),
        key=key,
        item_name="Cà phê sữa",
    )


async def test_voucher_by_code_and_token_then_redeem(pos: Pos, clock: FakeClock) -> None:
    issued = await _voucher(pos, clock)
    code = issued.voucher.short_code
    status, body = await pos.call("GET", f"/api/v1/vouchers/{code[:4].lower()}-{code[4:]}")
    assert (status, body["status"], body["member_name"]) == (200, "live", "Lan")
    status, body = await pos.call("GET", f"/api/v1/vouchers/v_{issued.token}")
    assert (status, body["code"]) == (200, vouchers.grouped(code))

    status, body = await pos.call("POST", f"/api/v1/vouchers/{code}/redeem")
    assert (status, body["status"], body["redeemed_store_id"]) == (200, "redeemed", pos.store_a.id)
    status, body = await pos.call("POST", f"/api/v1/vouchers/{code}/redeem", pos.key_b)
    assert (status, body["error"]["code"]) == (409, "voucher_already_redeemed")


async def test_a_redeem_retried_with_its_key_gets_the_first_answer(
    pos: Pos, clock: FakeClock
) -> None:
    """The till lost the 200 (Wi-Fi) and asks again: with the same Idempotency-Key it hears
    "redeemed" again, not "already redeemed"; without a key, or with another, it is refused."""
    issued = await _voucher(pos, clock)
    path = f"/api/v1/vouchers/{issued.voucher.short_code}/redeem"
    first = await pos.call("POST", path, idem="scan-1")
    assert first[0] == 200 and first[1]["status"] == "redeemed"
    clock.advance(seconds=5)
    assert await pos.call("POST", path, idem="scan-1") == first
    status, body = await pos.call("POST", path, idem="scan-2")
    assert (status, body["error"]["code"]) == (409, "voucher_already_redeemed")
    status, body = await pos.call("POST", path)
    assert (status, body["error"]["code"]) == (409, "voucher_already_redeemed")
    # Another store's till with the same key is another request altogether.
    status, body = await pos.call("POST", path, pos.key_b, idem="scan-1")
    assert (status, body["error"]["code"]) == (409, "voucher_already_redeemed")
    # A key is one request: the same key for another voucher is a client bug.
    other = await _voucher(pos, clock, key="bday-2")
    status, body = await pos.call(
        "POST", f"/api/v1/vouchers/{other.voucher.short_code}/redeem", idem="scan-1"
    )
    assert (status, body["error"]["code"]) == (422, "idempotency_key_reused")
    assert (await Voucher.get(id=other.voucher.id)).status == "issued"


async def test_a_refused_redeem_leaves_its_key_free(pos: Pos, clock: FakeClock) -> None:
    issued = await _voucher(pos, clock)
    await vouchers.void(issued.voucher, actor_account_id=0, at=clock())
    path = f"/api/v1/vouchers/{issued.voucher.short_code}/redeem"
    status, body = await pos.call("POST", path, idem="k")
    assert (status, body["error"]["code"]) == (409, "voucher_voided")
    status, body = await pos.call("POST", path, idem="k")  # refused again, not replayed
    assert (status, body["error"]["code"]) == (409, "voucher_voided")
    status, body = await pos.call("POST", path, idem="")
    assert (status, body["error"]["code"]) == (400, "idempotency_key_required")


async def test_expired_voucher_is_refused(pos: Pos, clock: FakeClock) -> None:
    issued = await _voucher(pos, clock)
    clock.advance(days=8)
    path = f"/api/v1/vouchers/{issued.voucher.short_code}/redeem"
    status, body = await pos.call("POST", path)
    assert (status, body["error"]["code"]) == (409, "voucher_expired")


async def test_twenty_tills_one_voucher_one_winner(pos: Pos, clock: FakeClock) -> None:
    issued = await _voucher(pos, clock)
    path = f"/api/v1/vouchers/{issued.voucher.short_code}/redeem"
    keys = [pos.key_a, pos.key_b] * 10
    answers = await asyncio.gather(*(pos.call("POST", path, key) for key in keys))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [409] * 19
    assert (await Voucher.get(id=issued.voucher.id)).status == "redeemed"


async def test_code_guessing_locks_the_key(pos: Pos, clock: FakeClock) -> None:
    issued = await _voucher(pos, clock)
    for _ in range(vouchers.MAX_FAILURES):
        status, _ = await pos.call("GET", "/api/v1/vouchers/AAAA-AAAA-AA")
        assert status == 404
    path = f"/api/v1/vouchers/{issued.voucher.short_code}"
    async with pos.http.get(path, headers=pos.auth()) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "600"
        assert (await response.json())["error"]["code"] == "too_many_wrong_codes"
    status, _ = await pos.call("GET", path, pos.key_b)  # the other till is not locked
    assert status == 200
    clock.advance(minutes=11)
    status, _ = await pos.call("GET", path)
    assert status == 200


async def test_rate_limit_per_key(db: str, clock: FakeClock) -> None:
    runner, base = await serve_api(clock, rate_per_minute=2)
    try:
        shop = await open_shop(clock, base)
        path = "/api/v1/members/lookup?phone=0912345678"
        assert [(await shop.call("GET", path))[0] for _ in range(2)] == [200, 200]
        async with shop.http.get(path, headers=shop.auth()) as response:
            assert response.status == 429
            assert 1 <= int(response.headers["Retry-After"]) <= 30
            assert (await response.json())["error"]["code"] == "rate_limited"
        assert (await shop.call("GET", path, shop.key_b))[0] == 200
        await shop.http.close()
    finally:
        await runner.cleanup()


async def test_request_ids(pos: Pos, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.api")
    headers = pos.auth(**{"X-Request-Id": "till-7:abc"})
    async with pos.http.get("/api/v1/members/lookup?phone=0912345678", headers=headers) as r:
        assert r.headers["X-Request-Id"] == "till-7:abc"
    async with pos.http.get("/api/v1/nowhere", headers=pos.auth()) as response:
        made = response.headers["X-Request-Id"]
        assert len(made) == 32
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "not_found"
    bad = pos.auth(**{"X-Request-Id": "x" * 200})
    async with pos.http.get("/api/v1/nowhere", headers=bad) as response:
        assert response.headers["X-Request-Id"] != "x" * 200
    lines = [(r.getMessage(), getattr(r, "request", None)) for r in caplog.records]
    assert ("GET /api/v1/members/lookup -> 200", " [till-7:abc]") in [
        (message.rsplit(" in ", 1)[0], request) for message, request in lines
    ]
    assert any(request == f" [{made}]" for _, request in lines)


async def test_wrong_method_is_json(pos: Pos) -> None:
    async with pos.http.delete("/api/v1/purchases", headers=pos.auth()) as response:
        assert response.status == 405
        assert (await response.json())["error"]["code"] == "method_not_allowed"


async def test_openapi_document_is_public(pos: Pos) -> None:
    async with (
        aiohttp.ClientSession() as anonymous,
        anonymous.get(f"{pos.base}/api/v1/openapi.json") as response,
    ):
        document = await response.json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {
        "/api/v1/purchases",
        "/api/v1/purchases/{purchase_id}/refund",
        "/api/v1/members/lookup",
        "/api/v1/vouchers/{code}",
        "/api/v1/vouchers/{code}/redeem",
        "/api/v1/openapi.json",
    }
    assert "PurchaseIn" in document["components"]["schemas"]


async def test_last_used_is_written_at_most_once_a_minute(pos: Pos, clock: FakeClock) -> None:
    path = "/api/v1/members/lookup?phone=0912345678"
    await pos.call("GET", path)
    first = (await ApiKey.get(store_id=pos.store_a.id)).last_used_at
    clock.advance(seconds=30)
    await pos.call("GET", path)
    assert (await ApiKey.get(store_id=pos.store_a.id)).last_used_at == first
    clock.advance(seconds=31)
    await pos.call("GET", path)
    later = (await ApiKey.get(store_id=pos.store_a.id)).last_used_at
    assert first is not None and later is not None and later - first == timedelta(seconds=61)


async def test_a_claim_left_by_a_crash_is_taken_over(pos: Pos, clock: FakeClock) -> None:
    """A process that died after claiming a key: replays wait, then one takes over, and the
    purchase underneath (keyed the same way) is still recorded once."""
    fingerprint = idempotency.fingerprint("purchase", bill())
    assert (
        await idempotency.claim(pos.store_a.id, "crash", "purchase", fingerprint, clock()) is None
    )
    status, body = await pos.purchase(bill(), idem="crash")
    assert (status, body["error"]["code"]) == (409, "idempotency_in_progress")
    clock.advance(seconds=31)
    status, first = await pos.purchase(bill(), idem="crash")
    assert status == 201
    assert await pos.purchase(bill(), idem="crash") == (201, first)
    assert await Purchase.all().count() == 1


async def test_the_running_app_serves_the_api(db: str, clock: FakeClock) -> None:
    app = QuenApp(Settings(database_url=db, http_port=0), clock)
    await app.start()
    try:
        store = await Store.create(name="Quận 1")
        new = await api_keys.create_key(store.id, name="", actor_account_id=None, at=clock())
        await Customer.create(display_name="Lan", phone="+84912345678")
        headers = {"Authorization": f"Bearer {new.secret}", "Idempotency-Key": "a"}
        async with (
            aiohttp.ClientSession(f"http://127.0.0.1:{app.http_port}") as http,
            http.post("/api/v1/purchases", json=bill(), headers=headers) as response,
        ):
            assert response.status == 201
        purchase = await Purchase.get()
        assert purchase.created_at == clock()  # the app's clock, not the wall clock
    finally:
        await app.stop()


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000 + b"]" * 5000,
        b'{"amount_vnd": ' + b"9" * 5000 + b"}",
        b'{"receipt_id": "\xff"}',
    ],
    ids=["deep", "long-number", "not-utf8"],
)
async def test_json_the_parser_refuses_is_400(pos: Pos, body: bytes) -> None:
    headers = pos.auth(**{"Idempotency-Key": "k", "Content-Type": "application/json"})
    async with pos.http.post("/api/v1/purchases", data=body, headers=headers) as response:
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "malformed_json"


@pytest.mark.parametrize(
    "change",
    [{"receipt_id": "R\x00"}, {"items": ["Bạc\x00xỉu"]}, {"items": [""]}, {"receipt_id": "x" * 65}],
)
async def test_text_that_cannot_be_stored_is_422(pos: Pos, change: dict[str, Any]) -> None:
    status, body = await pos.purchase({**bill(), **change})
    assert (status, body["error"]["code"]) == (422, "validation_error")
    status, body = await pos.purchase(
        {"amount_vnd": 1000, "receipt_id": "R", "member_code": "AB\x00"}, idem="k2"
    )
    assert (status, body["error"]["code"]) == (422, "validation_error")
    assert not await Purchase.exists()


async def test_a_bare_token_may_start_like_a_prefix(pos: Pos, clock: FakeClock) -> None:
    """Tokens are random base64: ``m_…`` can be a whole bare token, not a prefix to strip."""
    await MemberCard.create(
        customer_id=pos.lan.id, token_hash=hash_token("m_abc"), issued_at=clock()
    )
    link = f"https://t.me/QuenTestBot?start=m_{pos.card}"
    for n, token in enumerate(("m_abc", link, f"m_{pos.card}", pos.card)):
        status, body = await pos.purchase(bill(1000, card_token=token), idem=f"scan-{n}")
        assert (status, body.get("member_id")) == (201, pos.lan.id), token
