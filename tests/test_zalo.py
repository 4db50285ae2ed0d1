"""The Zalo adapter's pieces: signatures, words for commands, message shapes, settings, the OA
client's errors and rate limit, and the OAuth token store (rotation, retry, races, alerts)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest
import pytest_asyncio

from bot.delivery import Result
from bot.settings import SettingsError, load_settings
from bot.zalo import (
    Window,
    alert_owners,
    as_command,
    event_key,
    reply_buttons,
    signature,
    text_chunks,
    text_messages,
    to_incoming,
    verified_event,
    window_at,
)
from bot.zalo import _failure as failure_outcome
from bot.zalo_api import (
    Credentials,
    RateLimited,
    RateLimiter,
    RefreshFailed,
    TokenStore,
    ZaloApi,
    authorize,
    request_tokens,
)
from handlers.types import Button, PhoneRequest, Reply
from loyalty import conversations, staff
from models.outbox import OutboxMessage
from models.zalo import ZaloToken
from tests.conftest import FakeClock
from tests.fakes.zalo import FakeZalo

APP, SECRET = "1234567890123456789", "oa-secret-key-abc"


def test_signature_is_sha256_of_app_body_timestamp_and_secret() -> None:
    import hashlib

    body = b'{"event_name":"follow","timestamp":"1700000000000"}'
    expected = hashlib.sha256(APP.encode() + body + b"1700000000000" + SECRET.encode())
    assert signature(APP, body, "1700000000000", SECRET) == expected.hexdigest()
    assert verified_event(body, "mac=" + expected.hexdigest(), APP, SECRET) is not None
    assert verified_event(body, "mac=" + expected.hexdigest(), APP, "other") is None
    assert verified_event(body, None, APP, SECRET) is None
    assert verified_event(body + b" ", "mac=" + expected.hexdigest(), APP, SECRET) is None


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("điểm", "/points"),
        ("ĐIỂM", "/points"),
        ("diem", "/points"),
        ("Points", "/points"),
        ("  lịch   sử ", "/history"),
        ("thẻ", "/card"),
        ("đổi quà", "/rewards"),
        ("start ref_ab12", "/start ref_ab12"),
        ("dừng", "/stop"),
        ("xóa", "/delete"),
        ("/points", "/points"),
        ("22/11/1995", "22/11/1995"),
        ("điểm của tôi là bao nhiêu", "/points của tôi là bao nhiêu"),
        ("cảm ơn", "cảm ơn"),
    ],
)
def test_words_become_commands(typed: str, command: str) -> None:
    assert as_command(typed) == command


def test_events_become_incoming() -> None:
    text = {
        "event_name": "user_send_text",
        "sender": {"id": "42"},
        "timestamp": "1",
        "message": {"msg_id": "m1", "text": "#j:abc:ok:offers"},
    }
    incoming = to_incoming(text, "Mai")
    assert incoming is not None
    assert (incoming.action, incoming.user_id, incoming.display_name) == (
        "j:abc:ok:offers",
        "42",
        "Mai",
    )
    assert event_key(text) == "msg:m1"
    info = {
        "event_name": "user_submit_info",
        "sender": {"id": "42"},
        "timestamp": "2",
        "info": {"phone": "84912345678", "name": "Mai Trần"},
    }
    shared = to_incoming(info)
    assert shared is not None and shared.contact is not None
    assert (shared.contact.phone, shared.contact.user_id, shared.display_name) == (
        "84912345678",
        "42",
        "Mai Trần",
    )
    follow = {"event_name": "follow", "follower": {"id": "42"}, "timestamp": "3"}
    assert to_incoming(follow) is not None and to_incoming(follow).text == "/start"  # type: ignore[union-attr]
    assert event_key(follow) == "follow:42:3"
    assert to_incoming({"event_name": "user_received_message", "sender": {"id": "42"}}) is None


def test_long_text_is_cut_at_lines_and_buttons_five_a_message() -> None:
    text = "\n".join(f"dòng {n} " + "x" * 90 for n in range(60))
    chunks = text_chunks(text)
    assert all(len(chunk) <= 2000 for chunk in chunks) and len(chunks) == 3
    assert "".join(c.replace("\n", "") for c in chunks) == text.replace("\n", "")
    buttons = tuple((Button(f"b{n}", f"a:{n}"),) for n in range(7))
    messages = text_messages("chọn", reply_buttons(Reply("chọn", buttons=buttons)))
    assert [len(m["attachment"]["payload"]["buttons"]) for m in messages] == [5, 2]
    assert messages[0]["attachment"]["payload"]["buttons"][0] == {
        "title": "b0",
        "type": "oa.query.hide",
        "payload": "#a:0",
    }
    keyboard = reply_buttons(Reply("menu", keyboard=(("⭐ Điểm", "🎫 Thẻ"),)))
    assert [b["payload"] for b in keyboard] == ["⭐ Điểm", "🎫 Thẻ"]
    phone = reply_buttons(Reply("số?", ask_phone=PhoneRequest("📱 Chia sẻ", "Bỏ qua")))
    assert [b["payload"] for b in phone] == ["Bỏ qua"]


def test_windows() -> None:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    from datetime import timedelta

    assert window_at(now - timedelta(hours=47), now) is Window.FREE
    assert window_at(now - timedelta(hours=49), now) is Window.PAID
    assert window_at(now - timedelta(days=8), now) is Window.CLOSED
    assert window_at(None, now) is Window.CLOSED


def test_zalo_settings(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name in list(os.environ):
        if name.startswith("QUEN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("QUEN_ZALO_TEMPLATE_WINBACK=phone:777\n")
    monkeypatch.setenv("QUEN_ZALO_TEMPLATE_BIRTHDAY", "12345")
    settings = load_settings(zalo_app_id="1", zalo_app_secret="s", zalo_oa_secret_key="k")
    assert settings.zalo_enabled
    assert settings.zalo_templates == {"birthday": "12345", "winback": "phone:777"}
    assert not load_settings().zalo_enabled
    with pytest.raises(SettingsError, match="set all three"):
        load_settings(zalo_app_id="1")
    monkeypatch.setenv("QUEN_ZALO_TEMPLATE_EARNED", "not a template!")
    with pytest.raises(SettingsError, match="QUEN_ZALO_TEMPLATE_EARNED"):
        load_settings()


async def test_rate_limiter_spaces_requests_over_the_limit() -> None:
    limiter = RateLimiter(limit=3, period=0.3)
    started = time.monotonic()
    for _ in range(4):
        await limiter.wait_turn()
    assert time.monotonic() - started >= 0.29


# ------------------------------------------------------------------- client and token store


@pytest_asyncio.fixture
async def zalo(clock: FakeClock) -> AsyncIterator[FakeZalo]:
    server = FakeZalo(clock=clock)
    await server.start()
    yield server
    await server.stop()


def credentials(zalo: FakeZalo) -> Credentials:
    return Credentials(zalo.app_id, zalo.app_secret, zalo.root)


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def store_for(
    zalo: FakeZalo, session: aiohttp.ClientSession, clock: FakeClock, **more: object
) -> TokenStore:
    return TokenStore(
        session,
        credentials(zalo),
        clock,
        initial_refresh_token=zalo.initial_refresh_token,
        **more,  # type: ignore[arg-type]
    )


async def test_a_refresh_token_works_once(zalo: FakeZalo, session: aiohttp.ClientSession) -> None:
    form = {"refresh_token": zalo.initial_refresh_token, "grant_type": "refresh_token"}
    pair = await request_tokens(session, credentials(zalo), form)
    assert pair.refresh_token != zalo.initial_refresh_token
    assert pair.expires_in.total_seconds() == 25 * 3600
    with pytest.raises(RefreshFailed, match="Invalid refresh token"):
        await request_tokens(session, credentials(zalo), form)


async def test_token_errors_refresh_once_and_retry_once(
    db: str, zalo: FakeZalo, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    user = zalo.user("42", "Mai")
    user.last_interaction = clock()
    store = store_for(zalo, session, clock)
    api = ZaloApi(session, zalo.root, zalo.root, store, RateLimiter())
    await api.send_cs("42", {"text": "một"})
    assert zalo.refreshes == 1  # the seeded refresh token was exchanged for a first pair
    await api.send_cs("42", {"text": "hai"})
    assert zalo.refreshes == 1  # still fresh: no refresh

    zalo.expire_access_tokens()  # -216 for the stored token
    await api.send_cs("42", {"text": "ba"})
    assert zalo.refreshes == 2
    assert [s.error for s in zalo.sent] == [0, 0, -216, 0]

    clock.advance(hours=21)  # under 5 h left: refreshed ahead of expiry, before the call
    await api.send_cs("42", {"text": "bốn"})
    assert zalo.refreshes == 3 and zalo.sent[-1].error == 0
    assert (await ZaloToken.get()).version == 3


async def test_rate_limit_answer_throttles_the_sender(
    db: str, zalo: FakeZalo, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    zalo.rate_limit = 2
    zalo.user("42", "Mai").last_interaction = clock()
    api = ZaloApi(session, zalo.root, zalo.root, store_for(zalo, session, clock), RateLimiter())
    await api.send_cs("42", {"text": "một"})
    await api.send_cs("42", {"text": "hai"})
    with pytest.raises(RateLimited) as caught:
        await api.send_cs("42", {"text": "ba"})
    assert failure_outcome(caught.value).result is Result.THROTTLED


async def test_two_stores_racing_spend_the_refresh_token_once(
    db: str, zalo: FakeZalo, clock: FakeClock
) -> None:
    zalo.oauth_delay = 0.3  # both are waiting while the first refresh is in flight
    async with aiohttp.ClientSession() as one, aiohttp.ClientSession() as two:
        first, second = store_for(zalo, one, clock), store_for(zalo, two, clock)
        results = await asyncio.gather(first.access_token(), second.access_token())
    assert zalo.refreshes == 1
    assert results[0] == results[1]


RACER = """
import asyncio, sys
from datetime import UTC, datetime
import aiohttp
from bot.zalo_api import Credentials, TokenStore
from models.db import close_database, open_database

async def main() -> None:
    db, root, app_id, secret, start_at = sys.argv[1:6]
    await open_database(db)
    async with aiohttp.ClientSession() as session:
        store = TokenStore(session, Credentials(app_id, secret, root), lambda: datetime.now(UTC))
        while datetime.now(UTC).timestamp() < float(start_at):
            await asyncio.sleep(0.005)
        token, version = await store.access_token()
    await close_database()
    print(token, version)

asyncio.run(main())
"""


async def test_two_processes_racing_spend_the_refresh_token_once(
    db: str, zalo: FakeZalo, session: aiohttp.ClientSession
) -> None:
    # The stored pair is due for a refresh: both processes see it at the same moment.
    await ZaloToken.create(
        app_id=zalo.app_id,
        refresh_token=zalo.initial_refresh_token,
        updated_at=datetime.now(UTC),
    )
    zalo.clock = lambda: datetime.now(UTC)
    zalo.oauth_delay = 0.5
    start_at = str(time.time() + 2.0)
    args = [db, zalo.root, zalo.app_id, zalo.app_secret, start_at]
    racers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            RACER,
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [await asyncio.wait_for(racer.communicate(), 60) for racer in racers]
    for racer, (_, err) in zip(racers, outputs, strict=True):
        assert racer.returncode == 0, err.decode()[-2000:]
    answers = {out.decode().strip() for out, _ in outputs}
    assert len(answers) == 1, answers  # the same token and version in both processes
    assert zalo.refreshes == 1
    assert (await ZaloToken.get()).version == 1


async def test_a_failed_refresh_alerts_the_owners_with_how_to_reauthorise(
    db: str, zalo: FakeZalo, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    owner = await conversations.account_for(conversations.Caller("telegram", "7", "7"), clock())
    await staff.ensure_owner(owner, clock())
    alerts: list[str] = []

    async def alert(reason: str) -> None:
        alerts.append(reason)
        await alert_owners(reason, clock())

    await ZaloToken.create(app_id=zalo.app_id, refresh_token="rt-spent", updated_at=clock())
    store = store_for(zalo, session, clock, on_refresh_failure=alert)
    with pytest.raises(RefreshFailed):
        await store.access_token()
    row = await ZaloToken.get()
    assert row.failure and "Invalid refresh token" in row.failure and row.refreshing_by is None
    assert len(alerts) == 1
    queued = await OutboxMessage.get(account_id=owner.id)
    assert queued.kind == "zalo_auth" and queued.payload["lines"][0][0] == "zalo-reauth-alert"
    from locales import t

    assert "quen zalo authorize" in t("vi", "zalo-reauth-alert", reason="x")


async def test_quen_zalo_authorize_stores_a_fresh_pair(
    db: str, zalo: FakeZalo, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    await ZaloToken.create(
        app_id=zalo.app_id, refresh_token="rt-spent", failure="spent", updated_at=clock()
    )
    settings = load_settings(
        zalo_app_id=zalo.app_id,
        zalo_app_secret=zalo.app_secret,
        zalo_oa_secret_key=zalo.oa_secret_key,
        zalo_oauth_url=zalo.root,
    )
    said: list[str] = []
    code = zalo.issue_refresh_token()  # what the consent page would hand out
    pasted = f"https://cafe.example/?code={code}&state=x"
    asked: list[str] = []

    def paste(prompt: str) -> str:
        asked.append(prompt)
        return pasted

    assert await authorize(settings, "https://cafe.example/", paste, said.append) == 0
    assert said[0].startswith("Mở đường link này bằng tài khoản quản trị Official Account")
    assert "/v4/oa/permission?app_id=" in said[1] and "code_challenge=" in said[1]
    assert asked == ["Sau đó dán `code` trong địa chỉ mà Zalo chuyển bạn tới: "]
    assert said[-1].startswith("Đã cấp quyền Zalo")
    row = await ZaloToken.get()
    assert row.failure is None and row.version == 1 and row.access_token
    zalo.clock = lambda: datetime.now(UTC)  # the stored expiry was computed on the real clock
    token, _ = await store_for(zalo, session, lambda: datetime.now(UTC)).access_token()  # type: ignore[arg-type]
    assert token == row.access_token and zalo.refreshes == 0
    assert await authorize(settings, "https://cafe.example/", lambda _: code, said.append) == 1
    assert said[-1].startswith("Zalo không chấp nhận mã: ")
    english = settings.model_copy(update={"default_language": "en"})
    assert await authorize(english, "https://cafe.example/", lambda _: code, said.append) == 1
    assert said[-3].startswith("Open this link signed in as an admin of the Official Account")
    assert said[-1].startswith("Zalo did not accept the code: ")
