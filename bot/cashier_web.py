"""The cashier web page (``/cashier``): the till in a browser or a Telegram Mini App.

One page (``bot/static/cashier/``, plain HTML and JavaScript, no build step) and a few JSON
endpoints under ``/cashier/``. The endpoints call the same rules as the chat till
(``loyalty.purchases``, ``loyalty.vouchers``, ``loyalty.members``) and answer with the chat's own
texts, so the two cannot drift apart. Log-ins and sessions are ``loyalty.web_sessions``.

Security, in the order a request meets it:

* The session is a cookie: ``HttpOnly``, ``SameSite=Strict``, ``Path=/cashier``, and ``Secure``
  when ``QUEN_PUBLIC_URL`` is https.
* Every POST but the log-ins needs the session's CSRF token in ``X-CSRF-Token``; every POST with
  an ``Origin`` header must come from our own origin. Bodies must be JSON (415 otherwise), at most
  ``MAX_BODY`` bytes (413), well-formed (400).
* Purchases and redemptions act only on the member or voucher the session looked up last (see
  ``models.web.CashierSession``); voucher codes typed here count against the same guessing
  throttle as ``/redeem``.
* A Telegram Mini App logs in with its signed ``initData`` (``telegram_user_id``): HMAC-SHA256
  with the key HMAC-SHA256("WebAppData", bot token), compared in constant time, and no older than
  ``INIT_DATA_MAX_AGE``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from aiohttp import web

from bot.settings import Settings
from handlers.rewards import staff_view, when_where
from handlers.session import shown_name
from handlers.types import Shop
from locales import LANGUAGES, format_vnd, message_keys, supported, t
from loyalty import members, purchases, rules, tiers, vouchers, web_sessions
from loyalty.members import CARD_PREFIX
from loyalty.phones import to_e164
from loyalty.purchases import PurchaseRefused
from loyalty.vouchers import VOUCHER_PREFIX, VoucherError
from loyalty.web_sessions import Current, WebLoginError
from models.members import Customer
from models.rewards import Voucher
from models.staff import Store

log = logging.getLogger(__name__)

BASE = "/cashier"
COOKIE = "quen_cashier"
CSRF_HEADER = "X-CSRF-Token"
LANGUAGE_HEADER = "X-Quen-Language"
MAX_BODY = 16 * 1024
INIT_DATA_MAX_AGE = timedelta(hours=1)
STATIC = Path(__file__).parent / "static" / "cashier"
#: Texts the page shows by itself (buttons, labels); everything else comes with each answer.
PAGE_KEYS = ("till-confirm-button", "till-cancel-button", "voucher-redeem-button")
_NONCE = re.compile(r"[A-Za-z0-9_-]{8,64}")
_PHONE_LIKE = re.compile(r"[0-9+ .()-]+")


@dataclass(frozen=True)
class CashierConfig:
    """What the endpoints need from the running app: the shop (it changes once Telegram has
    told us the bot's name), the bot token for Mini App log-ins, and a way to wake the outbox
    sender after a purchase or a redemption queued a notice."""

    shop: Callable[[], Shop]
    bot_token: str | None
    public_url: str | None
    on_change: Callable[[], None]

    @property
    def secure(self) -> bool:
        return bool(self.public_url and self.public_url.startswith("https://"))


CONFIG_KEY = web.AppKey("cashier", CashierConfig)


def install_cashier(
    app: web.Application,
    settings: Settings,
    shop: Callable[[], Shop],
    on_change: Callable[[], None],
) -> None:
    """Add the page, its endpoints and its static files to the HTTP server."""
    token = settings.telegram_token
    app[CONFIG_KEY] = CashierConfig(
        shop=shop,
        bot_token=token.get_secret_value() if token else None,
        public_url=settings.public_url,
        on_change=on_change,
    )
    app.router.add_get(BASE, page)
    app.router.add_post(f"{BASE}/login", login)
    app.router.add_post(f"{BASE}/telegram", telegram_login)
    app.router.add_post(f"{BASE}/logout", logout)
    app.router.add_post(f"{BASE}/api/lookup", lookup)
    app.router.add_post(f"{BASE}/api/quote", quote)
    app.router.add_post(f"{BASE}/api/purchase", purchase)
    app.router.add_post(f"{BASE}/api/redeem", redeem)
    app.router.add_static(f"{BASE}/static", STATIC)


def web_app_url(public_url: str, language: str) -> str:
    """The Mini App's address, for the staff chat's menu button (``tg=1`` loads Telegram's
    script, which plain browsers are spared)."""
    return f"{public_url}{BASE}?tg=1&lang={language}"


# ------------------------------------------------------------------------------ Telegram


def telegram_user_id(
    init_data: str, bot_token: str, now: datetime, max_age: timedelta = INIT_DATA_MAX_AGE
) -> str | None:
    """The Telegram user id a Mini App's ``initData`` vouches for, or None if it is forged,
    tampered with, stale or malformed (Telegram's documented check: every field but ``hash``,
    sorted, as ``key=value`` lines)."""
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    fields = dict(pairs)
    given = fields.pop("hash", "")
    if len(fields) + 1 != len(pairs) or not given:
        return None  # a repeated field: not what Telegram signs
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        return None
    try:
        signed_at = int(fields["auth_date"])
        user = json.loads(fields["user"])
        user_id = int(user["id"])
    except (KeyError, ValueError, TypeError):
        return None
    age = now.timestamp() - signed_at
    if not -60 <= age <= max_age.total_seconds():
        return None
    return str(user_id)


# ------------------------------------------------------------------------------- helpers


def _config(request: web.Request) -> CashierConfig:
    return request.app[CONFIG_KEY]


def _language(request: web.Request) -> str:
    """The page's language: the header the page sends, ``?lang=``, the browser's, the shop's."""
    shop = _config(request).shop()
    asked = request.headers.get(LANGUAGE_HEADER) or request.query.get("lang")
    if asked:
        return supported(asked, shop.default_language)
    browser = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0].strip()
    return supported(browser or None, shop.default_language)


def _answer(status: int, **body: Any) -> web.Response:
    response = web.json_response(body, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _refuse(request: web.Request, status: int, key: str, **args: object) -> web.Response:
    """An error with the chat's text for it (``key`` also names the error for scripts)."""
    shop = _config(request).shop()
    return _answer(status, error=key, message=t(_language(request), key, shop=shop.name, **args))


def _same_origin(request: web.Request) -> bool:
    """Browsers send ``Origin`` with every POST: it must be us (our public address, or the
    address this request came to when there is none)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    public = _config(request).public_url
    ours = {f"{request.scheme}://{request.host}"}
    if public:
        parts = urlsplit(public)
        ours = {f"{parts.scheme}://{parts.netloc}"}
    return origin in ours


class BadBody(Exception):
    """The body is not what the endpoint takes: ``response`` says why (413, 415 or 400)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


async def _body(request: web.Request) -> dict[str, Any]:
    """The JSON object posted, read no further than ``MAX_BODY``. Raises ``BadBody``."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise BadBody(_refuse(request, 413, "cashier-bad-request"))
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise BadBody(_refuse(request, 413, "cashier-bad-request"))
    if request.content_type != "application/json":
        raise BadBody(_refuse(request, 415, "cashier-bad-request"))
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadBody(_refuse(request, 400, "cashier-bad-request")) from None
    if not isinstance(data, dict):
        raise BadBody(_refuse(request, 400, "cashier-bad-request"))
    return data


async def _signed_in(request: web.Request) -> tuple[Current, str] | None:
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 128:
        return None
    found = await web_sessions.current(token, _config(request).shop().clock())
    return (found, token) if found is not None else None


async def _who(shop: Shop, language: str, current: Current) -> str:
    """``Minh · Q1``: who the page acts as, and where."""
    await current.staff.fetch_related("account")
    store = await Store.get_or_none(id=current.staff.store_id) if current.staff.store_id else None
    return t(
        language,
        "cashier-signed-in",
        name=current.staff.account.display_name or current.staff.account.external_id,
        store=store.name if store else t(language, "staff-all-stores"),
    )


def _set_cookie(response: web.Response, token: str, config: CashierConfig) -> None:
    response.set_cookie(
        COOKIE,
        token,
        path=BASE,
        max_age=int(web_sessions.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="Strict",
        secure=config.secure,
    )


async def _opened(request: web.Request, opened: web_sessions.Opened) -> web.Response:
    """The answer to a log-in: the cookie, the CSRF token, and who the page now acts as."""
    config = _config(request)
    language = _language(request)
    previous = await _signed_in(request)
    if previous is not None:  # one browser, one session
        await web_sessions.logout(previous[0].session, config.shop().clock())
    current = await web_sessions.current(opened.token, config.shop().clock())
    assert current is not None
    response = _answer(
        200,
        csrf=web_sessions.csrf_token(opened.token),
        who=await _who(config.shop(), language, current),
    )
    _set_cookie(response, opened.token, config)
    return response


# -------------------------------------------------------------------------------- the page


async def page(request: web.Request) -> web.Response:
    """The one screen: the log-in form, or the till when the cookie holds a live session. Its
    texts and the CSRF token travel in a JSON block that the script reads."""
    shop = _config(request).shop()
    language = _language(request)
    signed_in = await _signed_in(request)
    texts = {
        key: t(language, key)
        for key in sorted(message_keys(language))
        if key.startswith("cashier-page-")
    }
    texts.update({key: t(language, key) for key in PAGE_KEYS})
    config = {
        "lang": language,
        "other": next(other for other in LANGUAGES if other != language),
        "texts": texts,
        "csrf": web_sessions.csrf_token(signed_in[1]) if signed_in else None,
        "who": await _who(shop, language, signed_in[0]) if signed_in else None,
        "telegram": request.query.get("tg") == "1",
    }
    # Inside <script type="application/json">: "<" is escaped so no text can close the tag.
    blob = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    telegram_js = '<script src="https://telegram.org/js/telegram-web-app.js"></script>'
    html = (
        (STATIC / "index.html")
        .read_text(encoding="utf-8")
        .replace("{{lang}}", language)
        .replace("{{title}}", escape(f"{t(language, 'cashier-page-title')} · {shop.name}"))
        .replace("{{telegram}}", telegram_js if config["telegram"] else "")
        .replace("{{config}}", blob)
    )
    response = web.Response(text=html, content_type="text/html")
    response.headers.update(
        {
            "Cache-Control": "no-store",
            "Content-Security-Policy": (
                "default-src 'self'; script-src 'self' https://telegram.org; "
                "img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
                "frame-ancestors 'self' https://web.telegram.org"
            ),
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        }
    )
    return response


# ------------------------------------------------------------------------------- logging in


async def login(request: web.Request) -> web.Response:
    """``{"code": "1234 5678"}`` from ``/weblogin``: a session for whoever asked for it."""
    if not _same_origin(request):
        return _refuse(request, 403, "cashier-bad-request")
    try:
        body = await _body(request)
    except BadBody as bad:
        return bad.response
    code = body.get("code")
    if not isinstance(code, str) or len(code) > 32:
        return _refuse(request, 400, "cashier-bad-request")
    at = _config(request).shop().clock()
    try:
        opened = await web_sessions.login_with_code(code, request.remote or "", at)
    except WebLoginError as error:
        status = 429 if error.reason == "locked" else 401
        return _refuse(request, status, f"cashier-login-error-{error.reason}")
    return await _opened(request, opened)


async def telegram_login(request: web.Request) -> web.Response:
    """``{"init_data": ...}`` from a Mini App opened in a staff member's Telegram."""
    config = _config(request)
    if config.bot_token is None:
        raise web.HTTPNotFound()
    if not _same_origin(request):
        return _refuse(request, 403, "cashier-bad-request")
    try:
        body = await _body(request)
    except BadBody as bad:
        return bad.response
    init_data = body.get("init_data")
    if not isinstance(init_data, str):
        return _refuse(request, 400, "cashier-bad-request")
    at = config.shop().clock()
    user_id = telegram_user_id(init_data, config.bot_token, at)
    if user_id is None:
        return _refuse(request, 401, "cashier-login-error-telegram")
    try:
        opened = await web_sessions.login_with_account("telegram", user_id, at)
    except WebLoginError as error:
        return _refuse(request, 403, f"cashier-login-error-{error.reason}")
    return await _opened(request, opened)


async def _guarded(request: web.Request) -> tuple[Current, dict[str, Any]] | web.Response:
    """A signed-in, same-origin POST with the right CSRF token and a JSON body, or the refusal."""
    signed_in = await _signed_in(request)
    if signed_in is None:
        return _refuse(request, 401, "cashier-session-expired")
    current, token = signed_in
    given = request.headers.get(CSRF_HEADER, "")
    if not _same_origin(request) or not hmac.compare_digest(
        given.encode(), web_sessions.csrf_token(token).encode()
    ):
        log.warning("cashier: refused a POST without the CSRF token from %s", request.remote)
        return _refuse(request, 403, "cashier-bad-request")
    try:
        return current, await _body(request)
    except BadBody as bad:
        return bad.response


async def logout(request: web.Request) -> web.Response:
    guarded = await _guarded(request)
    if isinstance(guarded, web.Response):
        return guarded
    await web_sessions.logout(guarded[0].session, _config(request).shop().clock())
    response = _answer(200, ok=True)
    response.del_cookie(COOKIE, path=BASE)
    return response


# ------------------------------------------------------------------------------- the till


def _start_payload(text: str) -> str | None:
    """``m_…`` or ``v_…`` from a scanned card or voucher link (or the bare payload)."""
    if text.startswith((CARD_PREFIX, VOUCHER_PREFIX)):
        return text
    if "?" in text:
        start = parse_qs(urlsplit(text).query).get("start")
        if start:
            return start[0]
    return None


async def lookup(request: web.Request) -> web.Response:
    """``{"code": ...}``: a scanned card or voucher link, a phone number, or a voucher code."""
    guarded = await _guarded(request)
    if isinstance(guarded, web.Response):
        return guarded
    current, body = guarded
    typed = body.get("code")
    if not isinstance(typed, str) or not typed.strip() or len(typed) > 512:
        return _refuse(request, 400, "cashier-bad-request")
    typed = typed.strip()
    at = _config(request).shop().clock()
    payload = _start_payload(typed)
    if payload is not None and payload.startswith(CARD_PREFIX):
        member = await members.member_by_card(payload.removeprefix(CARD_PREFIX))
        if member is None:
            return _refuse(request, 404, "till-card-unknown")
        return await _show_member(request, current, member)
    if payload is not None and payload.startswith(VOUCHER_PREFIX):
        voucher = await vouchers.by_token(payload.removeprefix(VOUCHER_PREFIX))
        if voucher is None:
            return _refuse(request, 404, "voucher-not-found")
        return await _show_voucher(request, current, voucher)
    phone = to_e164(typed) if _PHONE_LIKE.fullmatch(typed) else None
    member = await members.member_by_phone(phone) if phone else None
    if member is not None:
        return await _show_member(request, current, member)
    if vouchers.normalize_code(typed) is None:
        return _refuse(request, 404, "till-find-none" if phone else "voucher-not-found")
    if await vouchers.guessing_locked(current.staff, at):
        return _refuse(request, 423, "voucher-error-locked")
    voucher = await vouchers.by_code(typed)
    if voucher is None:
        await vouchers.record_failure(current.staff, at)
        return _refuse(request, 404, "voucher-not-found")
    return await _show_voucher(request, current, voucher)


async def _show_member(request: web.Request, current: Current, member: Customer) -> web.Response:
    try:
        await purchases.check_member(member, current.staff)
    except PurchaseRefused as refused:
        return _refuse(request, 422, f"till-error-{refused.reason}", max="")
    progress = await tiers.refresh_tier(member.id, _config(request).shop().clock())
    await web_sessions.remember(current.session, customer_id=member.id, voucher_id=None)
    language = _language(request)
    text = t(
        language,
        "till-member",
        name=shown_name(member),
        tier=progress.current.name(language),
        points=int(member.points_balance),
    )
    return _answer(200, kind="member", member=member.id, text=text)


async def _show_voucher(request: web.Request, current: Current, voucher: Voucher) -> web.Response:
    shop = _config(request).shop()
    why_not = vouchers.state(voucher, shop.clock())
    if why_not != "live":
        return _refuse(request, 409, f"voucher-error-{why_not}", **await when_where(shop, voucher))
    await web_sessions.remember(current.session, customer_id=None, voucher_id=voucher.id)
    owner = await Customer.get(id=voucher.customer_id)
    text = staff_view(shop, _language(request), voucher, owner)
    return _answer(200, kind="voucher", voucher=voucher.id, text=text)


async def _looked_up_member(current: Current, body: dict[str, Any]) -> Customer | None:
    """The member the request names, if it is the one this session looked up last."""
    named = body.get("member")
    if not isinstance(named, int) or named != current.session.customer_id:
        return None
    return await Customer.get_or_none(id=named)


async def _amount_refused(request: web.Request, refused: PurchaseRefused) -> web.Response:
    program = await rules.current()
    limit = format_vnd(program.max_purchase_vnd, _language(request))
    return _refuse(request, 422, f"till-error-{refused.reason}", max=limit)


async def quote(request: web.Request) -> web.Response:
    """``{"member": id, "amount": "85k"}``: the question before recording, as in the chat."""
    guarded = await _guarded(request)
    if isinstance(guarded, web.Response):
        return guarded
    current, body = guarded
    member = await _looked_up_member(current, body)
    amount_text = body.get("amount")
    if member is None or not isinstance(amount_text, str) or len(amount_text) > 64:
        return _refuse(request, 409, "button-expired")
    language = _language(request)
    try:
        amount = purchases.parse_amount(amount_text)
        priced = await purchases.quote(
            member, current.staff, amount, _config(request).shop().clock()
        )
    except PurchaseRefused as refused:
        return await _amount_refused(request, refused)
    text = t(
        language,
        "till-confirm",
        name=shown_name(member),
        amount=format_vnd(amount, language),
        points=priced.points,
    )
    return _answer(200, amount=amount, points=priced.points, text=text)


async def purchase(request: web.Request) -> web.Response:
    """``{"member": id, "amount": 85000, "nonce": ...}``: record the bill, once per nonce (the
    page makes one per confirmation, so a double tap or a retried request records one bill)."""
    guarded = await _guarded(request)
    if isinstance(guarded, web.Response):
        return guarded
    current, body = guarded
    config = _config(request)
    member = await _looked_up_member(current, body)
    amount, nonce = body.get("amount"), body.get("nonce")
    if member is None or not isinstance(amount, int) or isinstance(amount, bool):
        return _refuse(request, 409, "button-expired")
    if not isinstance(nonce, str) or not _NONCE.fullmatch(nonce):
        return _refuse(request, 400, "cashier-bad-request")
    shop = config.shop()
    try:
        recorded = await purchases.award_purchase(
            member,
            amount,
            cashier=current.staff,
            key=f"web:{current.staff.id}:{nonce}",
            at=shop.clock(),
            zone=shop.zone,
        )
    except PurchaseRefused as refused:
        return await _amount_refused(request, refused)
    config.on_change()
    language = _language(request)
    if not recorded.new:
        return _answer(200, new=False, text=t(language, "till-already-recorded"))
    text = t(
        language,
        "till-recorded",
        name=shown_name(member),
        amount=format_vnd(amount, language),
        points=recorded.points,
        balance=recorded.balance,
    )
    return _answer(200, new=True, points=recorded.points, balance=recorded.balance, text=text)


async def redeem(request: web.Request) -> web.Response:
    """``{"voucher": id}``: use the voucher looked up last. Exactly one cashier wins; the others
    are told when and where it was used."""
    guarded = await _guarded(request)
    if isinstance(guarded, web.Response):
        return guarded
    current, body = guarded
    config = _config(request)
    named = body.get("voucher")
    if not isinstance(named, int) or named != current.session.voucher_id:
        return _refuse(request, 409, "button-expired")
    shop = config.shop()
    try:
        voucher = await vouchers.redeem(named, current.staff, shop.clock())
    except VoucherError as error:
        where = await when_where(shop, error.voucher) if error.voucher else {}
        return _refuse(request, 409, f"voucher-error-{error.reason}", **where)
    config.on_change()
    owner = await Customer.get(id=voucher.customer_id)
    text = t(_language(request), "voucher-redeemed", title=voucher.title, name=shown_name(owner))
    return _answer(200, text=text)
