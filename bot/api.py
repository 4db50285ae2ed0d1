"""The POS REST API under ``/api/v1``: a store's till system records purchases, refunds them,
finds members and redeems vouchers, with the same rules as the cashier's chat.

This module is only HTTP: authentication (``Authorization: Bearer quen_live_…``), a token bucket
per key, request ids, body limits, JSON errors and the OpenAPI document. Every decision is made in
``loyalty/`` (``api_keys``, ``idempotency``, ``purchases``, ``vouchers``). Error messages are in
English: they are read by the developers who connect a POS, not by customers or cashiers, and the
stable ``code`` is what their programs should test.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.json_schema import models_json_schema

from bot.metrics import API_REQUESTS
from loyalty import api_keys, idempotency, purchases, tiers, vouchers
from loyalty.members import CARD_PREFIX, member_by_card
from loyalty.phones import to_e164
from loyalty.purchases import PurchaseRefused
from loyalty.vouchers import VOUCHER_PREFIX, VoucherError
from models.api import ApiKey
from models.members import Customer
from models.rewards import Voucher

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
MAX_BODY_BYTES = 16 * 1024
MAX_BIGINT = 2**63 - 1
REQUEST_ID_HEADER = "X-Request-Id"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
#: The request being served, for every log line written while serving it.
current_request_id: ContextVar[str] = ContextVar("quen_request_id", default="")


# ---------------------------------------------------------------------------- request ids in logs


def install_log_context() -> None:
    """Give every log record a ``request`` attribute (`` [<request id>]`` while serving an API
    request, empty otherwise), for the log format's ``%(request)s``. Safe to call twice."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "quen_request_ids", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        request_id = current_request_id.get()
        record.request = f" [{request_id}]" if request_id else ""
        return record

    factory.quen_request_ids = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


# ------------------------------------------------------------------------------- bodies and answers


#: Stored text: no control characters (PostgreSQL refuses NUL in text and JSON).
Text = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]


class PurchaseIn(BaseModel):
    """A bill from the POS. Exactly one of ``card_token``, ``phone`` and ``member_code`` names
    the member."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "phone": "0912 345 678",
                    "amount_vnd": 85000,
                    "items": ["Cà phê sữa đá"],
                    "receipt_id": "HD-2026-000123",
                }
            ]
        },
    )

    card_token: str | None = Field(
        None, min_length=1, max_length=200, description="the member QR's token (m_… or bare)"
    )
    phone: str | None = Field(
        None, min_length=1, max_length=32, description="a Vietnamese phone number, any format"
    )
    member_code: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9]{1,16}$",
        description="the member's personal code (from /invite)",
    )
    amount_vnd: int = Field(strict=True, gt=0, le=10**12, description="the bill in whole ₫")
    items: list[Text] = Field(default_factory=list, max_length=50)
    receipt_id: Text = Field(description="the POS's own receipt id")

    @model_validator(mode="after")
    def _one_member(self) -> PurchaseIn:
        given = [v for v in (self.card_token, self.phone, self.member_code) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of card_token, phone, member_code")
        return self


class PurchaseOut(BaseModel):
    purchase_id: int
    receipt_id: str | None
    member_id: int
    amount_vnd: int
    points_earned: int
    balance: int
    tier: str
    created_at: datetime


class RefundOut(BaseModel):
    purchase_id: int
    refunded_at: datetime
    points_reversed: int
    points_shortfall: int = Field(description="points the member had already spent: not taken")
    balance: int


class MemberOut(BaseModel):
    member_id: int
    name: str
    phone: str | None
    tier: str
    balance: int


class VoucherOut(BaseModel):
    code: str
    title: str
    kind: Literal["percent", "amount", "item"]
    value: int
    item_name: str
    min_spend_vnd: int | None
    member_id: int
    member_name: str
    status: Literal["live", "redeemed", "voided", "expired"]
    expires_at: datetime
    redeemed_at: datetime | None
    redeemed_store_id: int | None


class ErrorBody(BaseModel):
    code: str = Field(description="stable, for programs: e.g. member_not_found")
    message: str = Field(description="for the developer reading the log (English)")


class ErrorOut(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    """An answer other than success: status, stable code, message, and extra headers."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def error_response(error: ApiError) -> web.Response:
    body = ErrorOut(error=ErrorBody(code=error.code, message=error.message))
    return web.json_response(body.model_dump(), status=error.status, headers=error.headers)


def _json(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(model.model_dump(mode="json"), status=status)


# ------------------------------------------------------------------------------ state and limits


@dataclass
class TokenBucket:
    """``rate_per_minute`` requests a minute per key, in bursts of at most that many. In memory,
    per process (like the outbox's pace): N processes allow N times the rate."""

    rate_per_minute: int
    now: Callable[[], float] = time.monotonic
    _buckets: dict[int, tuple[float, float]] = field(default_factory=dict)

    def take(self, key_id: int) -> float:
        """0 if the request may go, else the seconds until it may."""
        per_second = self.rate_per_minute / 60
        now = self.now()
        tokens, then = self._buckets.get(key_id, (float(self.rate_per_minute), now))
        tokens = min(float(self.rate_per_minute), tokens + (now - then) * per_second)
        if tokens >= 1:
            self._buckets[key_id] = (tokens - 1, now)
            return 0.0
        self._buckets[key_id] = (tokens, now)
        return (1 - tokens) / per_second


@dataclass
class ApiState:
    clock: Callable[[], datetime]
    zone: ZoneInfo
    limiter: TokenBucket
    on_change: Callable[[], None] = lambda: None

    def now(self) -> datetime:
        """In UTC: SQLite compares stored times as text, and they are stored in UTC."""
        return self.clock().astimezone(UTC)


STATE = web.AppKey("api_state", ApiState)
CALLER = web.RequestKey("api_key", ApiKey)


def _key_of(request: web.Request) -> ApiKey:
    return request[CALLER]  # set by ``bearer_keys``, which runs first


# ---------------------------------------------------------------------------------- middlewares


@web.middleware
async def request_ids(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Accept the caller's ``X-Request-Id`` (if it looks like one) or make one; it is echoed in
    the answer and appears in every log line written while serving the request."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    token = current_request_id.set(request_id)
    started = time.perf_counter()
    try:
        try:
            response = await handler(request)
        except ApiError as error:
            response = error_response(error)
        except web.HTTPException as http:  # no such route, wrong method: still JSON
            code = {404: "not_found", 405: "method_not_allowed"}.get(http.status, "http_error")
            headers = {"Allow": http.headers["Allow"]} if "Allow" in http.headers else None
            response = error_response(ApiError(http.status, code, http.reason, headers))
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            response = error_response(ApiError(500, "internal_error", "Something went wrong."))
        response.headers[REQUEST_ID_HEADER] = request_id
        API_REQUESTS.labels(route=_route_of(request), status=str(response.status)).inc()
        elapsed = (time.perf_counter() - started) * 1000
        log.info("%s %s -> %s in %.1f ms", request.method, request.path, response.status, elapsed)
        return response
    finally:
        current_request_id.reset(token)


def _route_of(request: web.Request) -> str:
    """The route's pattern (``/api/v1/purchases/{purchase_id}/refund``), never the path itself:
    ids in paths would make a metric label per purchase."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


PUBLIC_PATHS = frozenset({f"{PREFIX}/openapi.json"})


@web.middleware
async def bearer_keys(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Who is calling (a live key) and whether they may, yet (the key's token bucket)."""
    if request.path in PUBLIC_PATHS:
        return await handler(request)
    challenge = {"WWW-Authenticate": 'Bearer realm="quen"'}
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise ApiError(401, "missing_api_key", "Send Authorization: Bearer <key>.", challenge)
    state = request.app[STATE]
    key = await api_keys.authenticate(secret, state.now())
    if key is None:
        if await api_keys.revoked_key(secret):
            raise ApiError(401, "revoked_api_key", "This API key was revoked.", challenge)
        raise ApiError(401, "invalid_api_key", "Unknown API key.", challenge)
    wait = state.limiter.take(key.id)
    if wait > 0:
        raise ApiError(
            429,
            "rate_limited",
            f"Too many requests for this key; retry in {math.ceil(wait)} s.",
            {"Retry-After": str(math.ceil(wait))},
        )
    request[CALLER] = key
    return await handler(request)


async def _read_json(request: web.Request) -> Any:
    """The body as JSON, refusing more than ``MAX_BODY_BYTES`` (413) and malformed JSON (400)."""
    too_big = ApiError(413, "body_too_large", f"Bodies are limited to {MAX_BODY_BYTES} bytes.")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise too_big
    body = bytearray()
    async for chunk in request.content.iter_any():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise too_big
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # bad JSON or UTF-8, a 5000-digit number, deep nesting
        raise ApiError(400, "malformed_json", "The body is not valid JSON.") from None


def _invalid(error: ValidationError) -> ApiError:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return ApiError(422, "validation_error", f"{where}: {first['msg']}")


# ---------------------------------------------------------------------------------- purchases


def _scanned(text: str, prefix: str) -> list[str]:
    """The tokens a scanned QR may carry: the whole link (``…?start=m_<token>``), its payload, or
    the bare token. A bare token may itself begin with ``m_`` (it is random base64), so the text
    as given is tried before the one without the prefix."""
    payload = text.rsplit("start=", 1)[-1]
    return [payload, payload.removeprefix(prefix)] if payload.startswith(prefix) else [payload]


async def _member_for(bill: PurchaseIn) -> Customer:
    """The member the bill names. Raises ``PurchaseRefused`` (phone-invalid, member-gone)."""
    member: Customer | None = None
    if bill.card_token is not None:
        for token in _scanned(bill.card_token, CARD_PREFIX):
            member = member or await member_by_card(token)
    elif bill.phone is not None:
        phone = to_e164(bill.phone)
        if phone is None:
            raise PurchaseRefused("phone-invalid")
        member = await Customer.get_or_none(phone=phone, deleted_at__isnull=True)
    elif bill.member_code is not None:
        code = bill.member_code.strip().upper()
        member = await Customer.get_or_none(referral_code=code, deleted_at__isnull=True)
    if member is None:
        raise PurchaseRefused("member-gone")
    return member


_REFUSED = (422, "purchase_refused", "The purchase was refused.")
_REFUSALS = {
    "phone-invalid": (422, "invalid_phone", "Not a valid phone number."),
    "amount-too-big": (422, "amount_too_large", "The amount is above the shop's maximum bill."),
    "member-gone": (404, "member_not_found", "No member with that card, phone or code."),
    "own-account": (422, "own_account", "A till cannot give points to its own account."),
}


def _idempotency_key(request: web.Request, required: bool) -> str | None:
    idem = request.headers.get(IDEMPOTENCY_HEADER)
    if idem is None and not required:
        return None
    if idem is None or not 1 <= len(idem) <= 100:
        raise ApiError(
            400, "idempotency_key_required", "Send an Idempotency-Key header (1-100 characters)."
        )
    return idem


async def _first_answer(
    store_id: int, idem: str, operation: str, payload: Any, now: datetime
) -> web.Response | None:
    """Claim ``idem`` for this request (None: go ahead, then ``complete`` or ``release`` it),
    or the answer the first request with this key got, to send again unchanged."""
    fingerprint = idempotency.fingerprint(operation, payload)
    try:
        first = await idempotency.claim(store_id, idem, operation, fingerprint, now)
    except idempotency.IdempotencyConflict as conflict:
        if conflict.reason == "key-reused":
            raise ApiError(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request.",
            ) from None
        raise ApiError(
            409, "idempotency_in_progress", "The first request with this key is still running."
        ) from None
    if first is None:
        return None
    status, body = first
    return web.json_response(body, status=status)


async def record_purchase(request: web.Request) -> web.Response:
    """``POST /purchases``: points for a bill, exactly once per ``Idempotency-Key``."""
    key, state = _key_of(request), request.app[STATE]
    idem = _idempotency_key(request, required=True)
    assert idem is not None
    payload = await _read_json(request)
    try:
        bill = PurchaseIn.model_validate(payload)
    except ValidationError as error:
        raise _invalid(error) from None
    now = state.now()
    replay = await _first_answer(key.store_id, idem, "purchase", payload, now)
    if replay is not None:
        return replay
    try:
        member = await _member_for(bill)
        recorded = await purchases.award_purchase(
            member,
            bill.amount_vnd,
            cashier=key.staff,
            key=f"api:{key.store_id}:{idem}",
            at=now,
            zone=state.zone,
            items=bill.items,
            source=purchases.API,
            receipt_id=bill.receipt_id,
        )
    except PurchaseRefused as refused:
        await idempotency.release(key.store_id, idem)  # nothing was recorded: the key is free
        status, code, message = _REFUSALS.get(refused.reason, _REFUSED)
        raise ApiError(status, code, message) from None
    state.on_change()
    purchase = recorded.purchase
    answer = PurchaseOut(
        purchase_id=purchase.id,
        receipt_id=purchase.receipt_id,
        member_id=purchase.customer_id,
        amount_vnd=int(purchase.amount_vnd),
        points_earned=recorded.points,
        balance=recorded.balance,
        tier=recorded.progress.current.code,
        created_at=purchase.created_at,
    ).model_dump(mode="json")
    await idempotency.complete(key.store_id, idem, 201, answer)
    return web.json_response(answer, status=201)


async def refund_purchase(request: web.Request) -> web.Response:
    """``POST /purchases/{id}/refund``: idempotent by nature (one void per purchase)."""
    key, state = _key_of(request), request.app[STATE]
    purchase_id = int(request.match_info["purchase_id"])
    if purchase_id > MAX_BIGINT:
        raise ApiError(404, "purchase_not_found", "No purchase with that id in this store.")
    try:
        undone = await purchases.refund(purchase_id, key.staff, state.now())
    except PurchaseRefused:
        raise ApiError(
            404, "purchase_not_found", "No purchase with that id in this store."
        ) from None
    state.on_change()
    voided_at = undone.purchase.voided_at
    assert voided_at is not None
    return _json(
        RefundOut(
            purchase_id=undone.purchase.id,
            refunded_at=voided_at,
            points_reversed=undone.taken_back,
            points_shortfall=undone.shortfall,
            balance=undone.balance,
        )
    )


# ------------------------------------------------------------------------------ members, vouchers


async def lookup_member(request: web.Request) -> web.Response:
    """``GET /members/lookup?phone=``: the member a phone number belongs to."""
    raw = request.query.get("phone")
    if raw is None:
        raise ApiError(422, "validation_error", "phone: field required")
    phone = to_e164(raw)
    if phone is None:
        raise ApiError(422, "invalid_phone", "Not a valid phone number.")
    member = await Customer.get_or_none(phone=phone, deleted_at__isnull=True)
    if member is None:
        raise ApiError(404, "member_not_found", "No member with that phone number.")
    progress = await tiers.refresh_tier(member.id, request.app[STATE].now())
    return _json(
        MemberOut(
            member_id=member.id,
            name=member.display_name,
            phone=member.phone,
            tier=progress.current.code,
            balance=int(member.points_balance),
        )
    )


_STATUS = {"live": "live", "already-redeemed": "redeemed", "voided": "voided", "expired": "expired"}


async def _voucher_out(voucher: Voucher, at: datetime) -> VoucherOut:
    owner = await Customer.get(id=voucher.customer_id)
    return VoucherOut(
        code=vouchers.grouped(voucher.short_code),
        title=voucher.title,
        kind=voucher.kind,  # type: ignore[arg-type]  # one of vouchers.KINDS
        value=int(voucher.value),
        item_name=voucher.item_name,
        min_spend_vnd=voucher.min_spend_vnd,
        member_id=voucher.customer_id,
        member_name=owner.display_name,
        status=_STATUS[vouchers.state(voucher, at)],  # type: ignore[arg-type]
        expires_at=voucher.expires_at,
        redeemed_at=voucher.redeemed_at,
        redeemed_store_id=voucher.redeemed_store_id,
    )


async def _find_voucher(request: web.Request) -> Voucher:
    """By short code or QR token, under the same guessing throttle as ``/redeem`` in chat: every
    miss counts against the key's till identity."""
    key, state = _key_of(request), request.app[STATE]
    now = state.now()
    if await vouchers.guessing_locked(key.staff, now):
        seconds = str(int(vouchers.FAILURE_WINDOW.total_seconds()))
        raise ApiError(
            429,
            "too_many_wrong_codes",
            "Too many unknown voucher codes from this key; wait before trying again.",
            {"Retry-After": seconds},
        )
    typed = request.match_info["code"]
    if vouchers.normalize_code(typed) is not None:
        voucher = await vouchers.by_code(typed)
    else:
        voucher = None
        for token in _scanned(typed, VOUCHER_PREFIX):
            voucher = voucher or await vouchers.by_token(token)
    if voucher is None:
        await vouchers.record_failure(key.staff, now)
        raise ApiError(404, "voucher_not_found", "No voucher with that code.")
    return voucher


async def show_voucher(request: web.Request) -> web.Response:
    voucher = await _find_voucher(request)
    return _json(await _voucher_out(voucher, request.app[STATE].now()))


async def redeem_voucher(request: web.Request) -> web.Response:
    """Exactly one caller wins a voucher, whatever the number of tills (one conditional UPDATE);
    the others get 409 with the reason. With an ``Idempotency-Key`` (optional here), a till
    that lost the answer and asks again gets the first 200 back, not "already redeemed"."""
    key, state = _key_of(request), request.app[STATE]
    idem = _idempotency_key(request, required=False)
    voucher = await _find_voucher(request)
    now = state.now()
    if idem is not None:
        operation = {"code": request.match_info["code"]}
        replay = await _first_answer(key.store_id, idem, "redeem", operation, now)
        if replay is not None:
            return replay
    try:
        used = await vouchers.redeem(voucher.id, key.staff, now)
    except VoucherError as error:
        if idem is not None:  # nothing was redeemed: the key is free again
            await idempotency.release(key.store_id, idem)
        when = error.voucher.redeemed_at if error.voucher else None
        message = {
            "already-redeemed": f"This voucher was already redeemed (at {when}).",
            "voided": "This voucher was cancelled by the shop.",
        }.get(error.reason, "This voucher has expired.")
        code = {"already-redeemed": "voucher_already_redeemed", "voided": "voucher_voided"}
        raise ApiError(409, code.get(error.reason, "voucher_expired"), message) from None
    state.on_change()
    answer = await _voucher_out(used, now)
    if idem is not None:
        await idempotency.complete(key.store_id, idem, 200, answer.model_dump(mode="json"))
    return _json(answer)


async def openapi_document(_: web.Request) -> web.Response:
    return web.json_response(openapi())


# -------------------------------------------------------------------------------------- OpenAPI


def _error(description: str, *, retry_after: bool = False) -> dict[str, Any]:
    headers: dict[str, Any] = {"X-Request-Id": {"$ref": "#/components/headers/RequestId"}}
    if retry_after:
        headers["Retry-After"] = {
            "description": "seconds to wait",
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
        }
    return {
        "description": description,
        "headers": headers,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
    }


def _ok(schema: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"X-Request-Id": {"$ref": "#/components/headers/RequestId"}},
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


_COMMON_ERRORS = {
    "401": _error("missing_api_key, invalid_api_key or revoked_api_key"),
    "404": _error("not_found (or the resource named by the operation)"),
    "429": _error("rate_limited (per key)", retry_after=True),
}


def _idempotency_parameter(required: bool) -> dict[str, Any]:
    return {
        "name": IDEMPOTENCY_HEADER,
        "in": "header",
        "required": required,
        "schema": {"type": "string", "minLength": 1, "maxLength": 100},
    }


_VOUCHER_CODE = {
    "name": "code",
    "in": "path",
    "required": True,
    "description": "the short code (7K3M-9QXD-2F, case and dashes ignored) or the QR token",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}


@cache
def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document: hand-written paths, schemas generated from the pydantic models
    the handlers use, so the two cannot drift apart."""
    models: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (PurchaseIn, "validation"),
        *((m, "serialization") for m in (PurchaseOut, RefundOut, MemberOut, VoucherOut, ErrorOut)),
    ]
    _, defs = models_json_schema(models, ref_template="#/components/schemas/{model}")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Quen POS API",
            "version": "1.0.0",
            "description": "A store's till system records purchases and redeems vouchers. "
            "Errors are {'error': {'code', 'message'}}; codes are stable, messages English.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            f"{PREFIX}/purchases": {
                "post": {
                    "operationId": "recordPurchase",
                    "summary": "Record a bill and credit its points, once per Idempotency-Key",
                    "parameters": [_idempotency_parameter(required=True)],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/PurchaseIn"}
                            }
                        },
                    },
                    "responses": {
                        "201": _ok("PurchaseOut", "recorded (a replay returns the first answer)"),
                        "400": _error("malformed_json or idempotency_key_required"),
                        **_COMMON_ERRORS,
                        "404": _error("member_not_found"),
                        "409": _error("idempotency_in_progress"),
                        "413": _error("body_too_large"),
                        "422": _error(
                            "validation_error, invalid_phone, amount_too_large, "
                            "idempotency_key_reused"
                        ),
                    },
                }
            },
            f"{PREFIX}/purchases/{{purchase_id}}/refund": {
                "post": {
                    "operationId": "refundPurchase",
                    "summary": "Void a purchase of this key's store and take its points back",
                    "parameters": [
                        {
                            "name": "purchase_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_BIGINT},
                        }
                    ],
                    "responses": {
                        "200": _ok("RefundOut", "refunded (again: the same refund)"),
                        **_COMMON_ERRORS,
                        "404": _error("purchase_not_found (also another store's purchase)"),
                    },
                }
            },
            f"{PREFIX}/members/lookup": {
                "get": {
                    "operationId": "lookupMember",
                    "summary": "Find a member by phone number",
                    "parameters": [
                        {
                            "name": "phone",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string", "minLength": 1, "maxLength": 32},
                        }
                    ],
                    "responses": {
                        "200": _ok("MemberOut", "the member"),
                        **_COMMON_ERRORS,
                        "404": _error("member_not_found"),
                        "422": _error("validation_error or invalid_phone"),
                    },
                }
            },
            f"{PREFIX}/vouchers/{{code}}": {
                "get": {
                    "operationId": "showVoucher",
                    "summary": "What a voucher gives, whose it is, whether it can be used",
                    "parameters": [_VOUCHER_CODE],
                    "responses": {
                        "200": _ok("VoucherOut", "the voucher"),
                        **_COMMON_ERRORS,
                        "404": _error("voucher_not_found"),
                        "429": _error("rate_limited or too_many_wrong_codes", retry_after=True),
                    },
                }
            },
            f"{PREFIX}/vouchers/{{code}}/redeem": {
                "post": {
                    "operationId": "redeemVoucher",
                    "summary": "Use a voucher: exactly one caller wins",
                    "parameters": [_VOUCHER_CODE, _idempotency_parameter(required=False)],
                    "responses": {
                        "200": _ok(
                            "VoucherOut",
                            "redeemed now, by this call (or by the first call with this "
                            "Idempotency-Key: its answer again)",
                        ),
                        "400": _error("idempotency_key_required (a key of a wrong length)"),
                        **_COMMON_ERRORS,
                        "404": _error("voucher_not_found"),
                        "409": _error(
                            "voucher_already_redeemed, voucher_expired, voucher_voided or "
                            "idempotency_in_progress"
                        ),
                        "422": _error("idempotency_key_reused"),
                        "429": _error("rate_limited or too_many_wrong_codes", retry_after=True),
                    },
                }
            },
            f"{PREFIX}/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "the OpenAPI document"}},
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a store's key, quen_live_… (owners: /apikeys create)",
                }
            },
            "headers": {
                "RequestId": {
                    "description": "the caller's X-Request-Id, or one made for this request",
                    "schema": {"type": "string"},
                }
            },
            "schemas": defs["$defs"],
        },
    }


# ------------------------------------------------------------------------------------ the app


def build_api_app(
    *,
    clock: Callable[[], datetime],
    zone: ZoneInfo,
    rate_per_minute: int,
    on_change: Callable[[], None] = lambda: None,
) -> web.Application:
    """The ``/api/v1`` sub-application (``bot.web`` mounts it). ``on_change`` is called after a
    write that may have queued a member's notice (the outbox sender's nudge)."""
    install_log_context()
    api = web.Application(middlewares=[request_ids, bearer_keys])
    api[STATE] = ApiState(clock, zone, TokenBucket(rate_per_minute), on_change)
    api.router.add_get("/openapi.json", openapi_document)
    api.router.add_post("/purchases", record_purchase)
    api.router.add_post("/purchases/{purchase_id:[0-9]{1,20}}/refund", refund_purchase)
    api.router.add_get("/members/lookup", lookup_member)
    api.router.add_get("/vouchers/{code}", show_voucher)
    api.router.add_post("/vouchers/{code}/redeem", redeem_voucher)
    return api
