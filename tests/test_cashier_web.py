"""The cashier web page over real HTTP (the whole app on 127.0.0.1): log-in codes from chat,
sessions, CSRF, bodies, store binding, the till's actions, and the Telegram Mini App log-in."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp
import pytest
import pytest_asyncio

from bot.app import QuenApp
from bot.cashier_web import CSRF_HEADER, MAX_BODY, telegram_user_id
from bot.settings import TelegramMode
from handlers.types import Shop
from loyalty import api_keys, members, staff, vouchers, web_sessions
from models.members import ChannelAccount, Customer
from models.purchases import Purchase
from models.rewards import Voucher
from models.staff import StaffMember, Store
from tests.chat import Chat
from tests.conftest import FakeClock
from tests.fakes.telegram import FakeTelegram, TgUser
from tests.test_e2e_telegram import settings_for

OWNER_ID = 7_000_000_101
CASHIER_ID = 7_000_000_102


@dataclass
class Shopfront:
    """A running app with two stores, an owner, a cashier of store A, a member and a voucher."""

    app: QuenApp
    base: str
    clock: FakeClock
    store_a: Store
    store_b: Store
    owner: StaffMember
    cashier: StaffMember
    member: Customer
    card: str
    voucher: Voucher
    voucher_token: str

    async def code_for(self, who: StaffMember, store: Store | None = None) -> str:
        return await web_sessions.issue_login_code(who, store.id if store else None, self.clock())


async def staff_member(user_id: int, name: str, role: str, store: Store | None) -> StaffMember:
    account = await ChannelAccount.create(
        channel="telegram", external_id=str(user_id), chat_id=str(user_id), display_name=name
    )
    return await StaffMember.create(
        account_id=account.id, role=role, store_id=store.id if store else None
    )


@asynccontextmanager
async def running_shop(
    settings_update: dict[str, object], db: str, fake: FakeTelegram, clock: FakeClock
) -> AsyncIterator[Shopfront]:
    settings = settings_for(fake, db, TelegramMode.POLLING).model_copy(
        update={"owner_telegram_ids": [OWNER_ID], **settings_update}
    )
    app = QuenApp(settings, clock)
    await app.start()
    try:
        store_a, store_b = await Store.create(name="Quận 1"), await Store.create(name="Quận 3")
        owner = await staff_member(OWNER_ID, "Hùng", staff.OWNER, None)
        cashier = await staff_member(CASHIER_ID, "Minh", staff.CASHIER, store_a)
        member = await Customer.create(display_name="Lan Nguyễn", phone="+84912345678")
        card = await members.issue_card(member, clock())
        issued = await vouchers.issue(
            member.id,
            reason="test",
            title="Bạc xỉu",
            kind=vouchers.ITEM,
            value=0,
            item_name="Bạc xỉu",
            valid_days=14,
            at=clock(),
            key="test-voucher",
        )
        front = Shopfront(
            app=app,
            base=f"http://127.0.0.1:{app.http_port}",
            clock=clock,
            store_a=store_a,
            store_b=store_b,
            owner=owner,
            cashier=cashier,
            member=member,
            card=card,
            voucher=issued.voucher,
            voucher_token=issued.token,
        )
        yield front
    finally:
        await app.stop()


@pytest_asyncio.fixture
async def shopfront(db: str, fake: FakeTelegram, clock: FakeClock) -> AsyncIterator[Shopfront]:
    async with running_shop({}, db, fake, clock) as front:
        yield front


class Browser:
    """An HTTP client that keeps cookies (even for 127.0.0.1) and the page's CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def close(self) -> None:
        await self.http.close()

    async def login(self, code: str) -> tuple[int, dict[str, object]]:
        async with self.http.post(f"{self.base}/cashier/login", json={"code": code}) as response:
            body = await response.json()
            self.csrf = str(body.get("csrf", ""))
            return response.status, body

    async def post(
        self, path: str, body: object, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, object]]:
        sent = {CSRF_HEADER: self.csrf, "X-Quen-Language": "vi", **(headers or {})}
        async with self.http.post(f"{self.base}{path}", json=body, headers=sent) as response:
            return response.status, await response.json()


@pytest_asyncio.fixture
async def browser(shopfront: Shopfront) -> AsyncIterator[Browser]:
    client = Browser(shopfront.base)
    yield client
    await client.close()


# ---------------------------------------------------------------------------- the chat side


async def test_weblogin_codes_from_chat(db: str, shop: Shop, clock: FakeClock) -> None:
    store_a, store_b = await Store.create(name="Quận 1"), await Store.create(name="Quận 3")
    await staff_member(CASHIER_ID, "Minh", staff.CASHIER, store_a)
    owner = await staff_member(OWNER_ID, "Hùng", staff.OWNER, None)
    cashier_chat = Chat(shop, user_id=str(CASHIER_ID), name="Minh")

    await cashier_chat.say("/weblogin")
    code = re.search(r"(\d{4} \d{4})", cashier_chat.text)
    assert code and "hết hạn lúc 10:10 ngày 22/11/2026" in cashier_chat.text
    await cashier_chat.say(f"/weblogin {store_b.id}")
    assert "chỉ lấy được mã cho cửa hàng của mình" in cashier_chat.text
    await cashier_chat.say("/weblogin Q1")
    assert "/weblogin <số cửa hàng>" in cashier_chat.text

    owner_chat = Chat(shop, user_id=str(OWNER_ID), name="Hùng")
    await owner_chat.say(f"/weblogin {store_b.id}")
    owner_code = re.search(r"(\d{4} \d{4})", owner_chat.text)
    assert owner_code
    await owner_chat.say("/weblogin 99")
    assert "Không có cửa hàng số này" in owner_chat.text

    for typed, who, where in ((code, CASHIER_ID, store_a), (owner_code, OWNER_ID, store_b)):
        opened = await web_sessions.login_with_code(typed.group(1), "1.2.3.4", clock())
        current = await web_sessions.current(opened.token, clock())
        assert current is not None and current.staff.store_id == where.id
        account = await ChannelAccount.get(id=current.staff.account_id)
        assert account.external_id == str(who)
    assert owner.store_id is None


# ----------------------------------------------------------------------------- logging in


async def test_cookie_flags_session_and_logout(shopfront: Shopfront, browser: Browser) -> None:
    code = await shopfront.code_for(shopfront.cashier)
    async with browser.http.post(f"{browser.base}/cashier/login", json={"code": code}) as response:
        assert response.status == 200
        cookie = response.headers["Set-Cookie"]
        browser.csrf = (await response.json())["csrf"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/cashier" in cookie
    assert "Secure" not in cookie  # QUEN_PUBLIC_URL is http in this test
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) >= 43  # 256 bits, base64url

    async with browser.http.get(f"{browser.base}/cashier") as response:
        page = await response.text()
        assert response.headers["Cache-Control"] == "no-store"
        assert "frame-ancestors" in response.headers["Content-Security-Policy"]
    assert browser.csrf in page and "Minh · Quận 1" in page

    status, _ = await browser.post("/cashier/api/lookup", {"code": "0912345678"})
    assert status == 200
    status, _ = await browser.post("/cashier/logout", {})
    assert status == 200
    status, body = await browser.post("/cashier/api/lookup", {"code": "0912345678"})
    assert (status, body["error"]) == (401, "cashier-session-expired")
    # The old cookie, replayed by hand, is dead too.
    async with (
        aiohttp.ClientSession() as other,
        other.post(
            f"{browser.base}/cashier/api/lookup",
            json={"code": "0912345678"},
            headers={"Cookie": f"quen_cashier={token}", CSRF_HEADER: browser.csrf},
        ) as response,
    ):
        assert response.status == 401


async def test_login_codes_work_once_and_expire(shopfront: Shopfront, browser: Browser) -> None:
    code = await shopfront.code_for(shopfront.cashier)
    assert (await browser.login(code))[0] == 200
    status, body = await browser.login(code)
    assert (status, body["error"]) == (401, "cashier-login-error-code-used")

    late = await shopfront.code_for(shopfront.cashier)
    shopfront.clock.advance(minutes=10, seconds=1)
    status, body = await browser.login(late)
    assert (status, body["error"]) == (401, "cashier-login-error-code-expired")
    assert "hết hạn" in str(body["message"])

    status, body = await browser.login("1234-5678")
    assert (status, body["error"]) == (401, "cashier-login-error-code-invalid")


async def test_guessing_login_codes_locks_the_address(
    shopfront: Shopfront, browser: Browser
) -> None:
    good = await shopfront.code_for(shopfront.cashier)
    wrong = "0000 0000" if good != "00000000" else "1111 1111"
    for _ in range(web_sessions.MAX_FAILURES):
        assert (await browser.login(wrong))[0] == 401
    status, body = await browser.login(good)
    assert (status, body["error"]) == (429, "cashier-login-error-locked")
    shopfront.clock.advance(minutes=10, seconds=1)  # the lock is over (and that code too)
    assert (await browser.login(await shopfront.code_for(shopfront.cashier)))[0] == 200


async def test_removed_staff_code_opens_nothing(shopfront: Shopfront, browser: Browser) -> None:
    code = await shopfront.code_for(shopfront.cashier)
    await staff.remove(shopfront.owner, shopfront.cashier.id, shopfront.clock())
    status, body = await browser.login(code)
    assert (status, body["error"]) == (401, "cashier-login-error-code-invalid")


# -------------------------------------------------------------------- CSRF, origin, bodies


async def test_posts_need_the_csrf_token_and_our_origin(
    shopfront: Shopfront, browser: Browser
) -> None:
    await browser.login(await shopfront.code_for(shopfront.cashier))
    lookup = {"code": "0912345678"}
    assert (await browser.post("/cashier/api/lookup", lookup, {CSRF_HEADER: ""}))[0] == 403
    assert (await browser.post("/cashier/api/lookup", lookup, {CSRF_HEADER: "x" * 64}))[0] == 403
    evil = {"Origin": "https://evil.example"}
    assert (await browser.post("/cashier/api/lookup", lookup, evil))[0] == 403
    ours = {"Origin": shopfront.base}
    assert (await browser.post("/cashier/api/lookup", lookup, ours))[0] == 200
    # What a cross-site HTML form can send: the cookie, a form body, no CSRF header.
    async with browser.http.post(
        f"{browser.base}/cashier/api/purchase",
        data=urlencode({"member": shopfront.member.id, "amount": 85000, "nonce": "a" * 16}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ) as response:
        assert response.status == 403
    async with browser.http.post(
        f"{browser.base}/cashier/api/lookup",
        data="code=0912345678",
        headers={"Content-Type": "application/x-www-form-urlencoded", CSRF_HEADER: browser.csrf},
    ) as response:
        assert response.status == 415
    async with browser.http.post(
        f"{browser.base}/cashier/login",
        json={"code": "1234 5678"},
        headers={"Origin": "https://evil.example"},
    ) as response:
        assert response.status == 403
    assert await Purchase.all().count() == 0


async def test_oversize_and_malformed_bodies(shopfront: Shopfront, browser: Browser) -> None:
    await browser.login(await shopfront.code_for(shopfront.cashier))
    headers = {"Content-Type": "application/json", CSRF_HEADER: browser.csrf}
    url = f"{browser.base}/cashier/api/lookup"
    big = json.dumps({"code": "x" * (MAX_BODY + 10)})
    async with browser.http.post(url, data=big, headers=headers) as response:
        assert response.status == 413
    for bad in ('{"code": ', "[1, 2]", "\xff\xfe"):
        async with browser.http.post(url, data=bad.encode("latin-1"), headers=headers) as response:
            assert response.status == 400, bad
    async with browser.http.post(
        f"{browser.base}/cashier/login", data=b"{nope", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400
    status, _ = await browser.post("/cashier/api/lookup", {"code": 12})
    assert status == 400


# ------------------------------------------------------------------------ store and staff


async def test_a_session_acts_for_one_staff_member_and_store(
    shopfront: Shopfront, browser: Browser
) -> None:
    with pytest.raises(web_sessions.WebLoginError, match="store-not-yours"):
        await shopfront.code_for(shopfront.cashier, shopfront.store_b)
    await browser.login(await shopfront.code_for(shopfront.cashier))
    status, found = await browser.post("/cashier/api/lookup", {"code": "0912 345 678"})
    assert (status, found["kind"]) == (200, "member")
    status, _ = await browser.post(
        "/cashier/api/purchase",
        {
            "member": found["member"],
            "amount": 85000,
            "nonce": "n" * 16,
            "store": shopfront.store_b.id,
        },
    )
    assert status == 200
    bill = await Purchase.get()
    assert (bill.store_id, bill.cashier_id) == (shopfront.store_a.id, shopfront.cashier.id)

    # Moved to store B (a new invite replaces the role): the store A session ends.
    token = await staff.create_invite(
        shopfront.owner, staff.CASHIER, shopfront.store_b.id, shopfront.clock()
    )
    account = await ChannelAccount.get(id=shopfront.cashier.account_id)
    await staff.accept_invite(token, account, shopfront.clock())
    status, body = await browser.post("/cashier/api/lookup", {"code": "0912345678"})
    assert (status, body["error"]) == (401, "cashier-session-expired")


async def test_an_owner_code_names_the_store(shopfront: Shopfront, browser: Browser) -> None:
    await browser.login(await shopfront.code_for(shopfront.owner, shopfront.store_b))
    _, found = await browser.post("/cashier/api/lookup", {"code": "0912345678"})
    await browser.post(
        "/cashier/api/purchase", {"member": found["member"], "amount": 40000, "nonce": "o" * 16}
    )
    assert (await Purchase.get()).store_id == shopfront.store_b.id
    assert (await StaffMember.get(id=shopfront.owner.id)).store_id is None  # nothing saved


# ------------------------------------------------------------------------------ the till


async def test_record_a_purchase_and_redeem_a_voucher(
    shopfront: Shopfront, browser: Browser
) -> None:
    await browser.login(await shopfront.code_for(shopfront.cashier))
    status, found = await browser.post(
        "/cashier/api/lookup", {"code": f"https://t.me/QuenTestBot?start=m_{shopfront.card}"}
    )
    assert (status, found["kind"]) == (200, "member")
    assert "Lan Nguyễn" in str(found["text"])
    member = found["member"]
    status, quoted = await browser.post("/cashier/api/quote", {"member": member, "amount": "85k"})
    assert (status, quoted["amount"], quoted["points"]) == (200, 85000, 85)
    assert "Xác nhận?" in str(quoted["text"])
    status, refused = await browser.post("/cashier/api/quote", {"member": member, "amount": "9tr"})
    assert (status, refused["error"]) == (422, "till-error-amount-format")

    bill = {"member": member, "amount": 85000, "nonce": "f" * 32}
    status, recorded = await browser.post("/cashier/api/purchase", bill)
    assert (status, recorded["new"], recorded["balance"]) == (200, True, 85)
    status, again = await browser.post("/cashier/api/purchase", bill)  # a double tap
    assert (status, again["new"]) == (200, False)
    assert await Purchase.all().count() == 1
    assert (await Customer.get(id=member)).points_balance == 85

    # Only what was looked up last can be acted on.
    status, body = await browser.post("/cashier/api/redeem", {"voucher": shopfront.voucher.id})
    assert (status, body["error"]) == (409, "button-expired")
    code = vouchers.grouped(shopfront.voucher.short_code).lower()
    status, shown = await browser.post("/cashier/api/lookup", {"code": code})
    assert (status, shown["kind"]) == (200, "voucher")
    assert "Bạc xỉu" in str(shown["text"]) and "Lan Nguyễn" in str(shown["text"])
    status, stale = await browser.post("/cashier/api/purchase", {**bill, "nonce": "g" * 16})
    assert (status, stale["error"]) == (409, "button-expired")
    status, used = await browser.post("/cashier/api/redeem", {"voucher": shown["voucher"]})
    assert status == 200 and "Đã dùng voucher «Bạc xỉu»" in str(used["text"])
    status, twice = await browser.post("/cashier/api/redeem", {"voucher": shown["voucher"]})
    assert (status, twice["error"]) == (409, "voucher-error-already-redeemed")
    assert "Quận 1" in str(twice["message"])
    status, scanned = await browser.post(
        "/cashier/api/lookup", {"code": f"v_{shopfront.voucher_token}"}
    )
    assert (status, scanned["error"]) == (409, "voucher-error-already-redeemed")
    redeemed = await Voucher.get(id=shopfront.voucher.id)
    assert (redeemed.redeemed_by_id, redeemed.redeemed_store_id) == (
        shopfront.cashier.id,
        shopfront.store_a.id,
    )


async def test_typed_voucher_codes_share_the_guessing_throttle(
    shopfront: Shopfront, browser: Browser
) -> None:
    await browser.login(await shopfront.code_for(shopfront.cashier))
    real = shopfront.voucher.short_code
    wrong = "ZZZZZZZZZZ" if real != "ZZZZZZZZZZ" else "YYYYYYYYYY"
    for _ in range(vouchers.MAX_FAILURES):
        status, body = await browser.post("/cashier/api/lookup", {"code": wrong})
        assert (status, body["error"]) == (404, "voucher-not-found")
    status, body = await browser.post("/cashier/api/lookup", {"code": real})
    assert (status, body["error"]) == (423, "voucher-error-locked")
    # Phone numbers still work: /find is not a guess at a voucher.
    assert (await browser.post("/cashier/api/lookup", {"code": "0912345678"}))[0] == 200
    status, body = await browser.post("/cashier/api/lookup", {"code": "+84 912 000 000"})
    assert (status, body["error"]) == (404, "till-find-none")
    assert await vouchers.guessing_locked(shopfront.cashier, shopfront.clock())


async def test_english_answers(shopfront: Shopfront, browser: Browser) -> None:
    await browser.login(await shopfront.code_for(shopfront.cashier))
    status, body = await browser.post(
        "/cashier/api/lookup", {"code": "m_nope"}, {"X-Quen-Language": "en"}
    )
    assert status == 404 and "card" in str(body["message"]).lower()
    async with browser.http.get(f"{browser.base}/cashier?lang=en") as response:
        page = await response.text()
    assert '<html lang="en">' in page and "Record the bill" in page


# ------------------------------------------------------------------------ Telegram Mini App


def signed_init_data(token: str, user_id: int, auth_date: int, **extra: str) -> str:
    fields = {
        "auth_date": str(auth_date),
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps({"id": user_id, "first_name": "Minh"}),
        **extra,
    }
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


def test_init_data_validation(clock: FakeClock) -> None:
    token, now = "123:ABC", int(clock().timestamp())
    good = signed_init_data(token, 42, now - 60)
    assert telegram_user_id(good, token, clock()) == "42"
    assert telegram_user_id(good, "123:XYZ", clock()) is None  # another bot's token
    assert telegram_user_id(good.replace("Minh", "Mallory"), token, clock()) is None
    assert telegram_user_id(signed_init_data(token, 42, now - 3601), token, clock()) is None
    assert telegram_user_id(good + "&auth_date=1", token, clock()) is None
    assert telegram_user_id(good.replace("hash=", "hash=0"), token, clock()) is None
    assert telegram_user_id("", token, clock()) is None
    no_user = signed_init_data(token, 42, now).replace("user=", "usr=")
    assert telegram_user_id(no_user, token, clock()) is None


async def test_mini_app_login(shopfront: Shopfront, browser: Browser, fake: FakeTelegram) -> None:
    now = int(shopfront.clock().timestamp())
    url = f"{browser.base}/cashier/telegram"
    async with browser.http.post(
        url, json={"init_data": signed_init_data(fake.token, CASHIER_ID, now)}
    ) as response:
        assert response.status == 200
        browser.csrf = (await response.json())["csrf"]
        assert "SameSite=Strict" in response.headers["Set-Cookie"]
    assert (await browser.post("/cashier/api/lookup", {"code": "0912345678"}))[0] == 200
    forged = signed_init_data("999:WRONG", CASHIER_ID, now)
    async with browser.http.post(url, json={"init_data": forged}) as response:
        assert response.status == 401
    stranger = signed_init_data(fake.token, 5_000_000_777, now)
    async with browser.http.post(url, json={"init_data": stranger}) as response:
        body = await response.json()
        assert (response.status, body["error"]) == (403, "cashier-login-error-not-staff")


async def test_staff_menu_button_opens_the_mini_app(
    db: str, fake: FakeTelegram, clock: FakeClock
) -> None:
    second_owner = TgUser(7_000_000_199, "Thảo", language_code="vi")
    update = {
        "public_url": "https://quen.example",
        "owner_telegram_ids": [OWNER_ID, second_owner.id],
    }
    async with running_shop(update, db, fake, clock) as front:
        fake.push_text(second_owner, "/start")  # an owner's first message sets their menus
        await fake.wait_for(lambda call: call.method == "setChatMenuButton")
        button = fake.menu_button(second_owner.id)
        assert button["type"] == "web_app" and button["text"] == "Thu ngân"
        assert button["web_app"]["url"] == "https://quen.example/cashier?tg=1&lang=vi"
        # https: the cookie is Secure (checked with the app's own answer).
        code = await front.code_for(front.cashier)
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{front.base}/cashier/login", json={"code": code}) as response,
        ):
            assert response.status == 200
            assert "Secure" in response.headers["Set-Cookie"]
        # Leaving the team puts the default menu button back (with the removal notice).
        await staff.remove(front.owner, front.cashier.id, clock())
        front.app.sender.nudge()
        restored = await fake.wait_for(
            lambda call: call.method == "setChatMenuButton" and call.chat_id == CASHIER_ID
        )
        assert restored.params["menu_button"] == {"type": "default"}


async def test_a_cashier_session_and_a_pos_key_open_only_their_own_doors(
    shopfront: Shopfront, browser: Browser
) -> None:
    """The till page's cookie is not a POS key, a POS key is not a till session, and store B's
    key cannot undo what store A's cashier recorded on the page."""
    key_b = await api_keys.create_key(
        shopfront.store_b.id, name="till B", actor_account_id=None, at=shopfront.clock()
    )
    await browser.login(await shopfront.code_for(shopfront.cashier))
    _, found = await browser.post("/cashier/api/lookup", {"code": "0912345678"})
    status, _ = await browser.post(
        "/cashier/api/purchase", {"member": found["member"], "amount": 85000, "nonce": "a" * 16}
    )
    assert status == 200
    bill = await Purchase.get()
    assert bill.store_id == shopfront.store_a.id

    # The session cookie (and its CSRF token) on the POS API: no key, no entry.
    status, body = await browser.post(
        "/api/v1/purchases",
        {"member": {"phone": "0912345678"}, "amount_vnd": 50000, "receipt_id": "r1"},
        {"Idempotency-Key": "cookie-only"},
    )
    assert status == 401 and body["error"]["code"] == "missing_api_key"
    # Store B's key on the till page: no session, no entry.
    bearer = {"Authorization": f"Bearer {key_b.secret}", CSRF_HEADER: browser.csrf}
    async with aiohttp.ClientSession() as stranger:
        async with stranger.post(
            f"{shopfront.base}/cashier/api/lookup", json={"code": "0912345678"}, headers=bearer
        ) as response:
            assert response.status == 401
        # Store B's key cannot refund store A's bill.
        async with stranger.post(
            f"{shopfront.base}/api/v1/purchases/{bill.id}/refund", headers=bearer
        ) as response:
            assert response.status == 404
    assert (await Purchase.get(id=bill.id)).voided_at is None
    assert await Purchase.all().count() == 1
