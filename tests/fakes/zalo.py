"""A fake Zalo Official Account platform for end-to-end tests: the OA Open API, OAuth v4, and
webhooks signed like Zalo's.

It speaks the real paths and envelopes: HTTP 200 with ``{"error": <code>, "message": ...}`` for
every answer, ``access_token`` headers, the multipart ``file`` upload, the OAuth form body with
the ``secret_key`` header and ``expires_in`` as a string. And it holds Quen to Zalo's rules:

* a consultation message (``/v3.0/oa/message/cs``) is free within 48 h of the person's last
  interaction, billed (recorded as ``paid``) up to 7 days, and refused with ``-230`` after that;
  non-followers get ``-213``; text over 2,000 characters, more than 5 buttons, an unknown button
  type or an unknown or expired ``attachment_id`` get ``-201``;
* templates must be approved (``approve_template``); by phone, the number is ``84xxxxxxxxx``;
* an access token lives 25 h (by the fake's clock) and a refresh token works ONCE: every refresh
  returns a new pair, and reusing a spent refresh token fails (and, like Zalo, that is final);
* more than ``rate_limit`` requests in 60 s get ``-32``.

Webhook events are POSTed to ``webhook_url`` with ``X-ZEvent-Signature: mac=<sha256(app_id +
body + timestamp + oa_secret_key)>``; ``timestamp`` is the milliseconds field of the body.
Simplification: a webhook that does not answer 200 is not retried (tests redeliver by hand with
``redeliver``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import itertools
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from PIL import Image, UnidentifiedImageError

ACCESS_LIFETIME = timedelta(hours=25)
ATTACHMENT_LIFETIME = timedelta(days=7)
FREE_WINDOW = timedelta(hours=48)
PAID_WINDOW = timedelta(days=7)
MAX_TEXT = 2000
MAX_BUTTONS = 5
MAX_IMAGE = 1024 * 1024
BUTTON_TYPES = frozenset({"oa.query.hide", "oa.query.show", "oa.open.url", "oa.open.phone"})


@dataclass
class ZaloUser:
    """A Zalo user who follows (or followed) the OA."""

    id: str
    name: str
    phone: str = "84912345678"
    followed: bool = True
    last_interaction: datetime | None = None


@dataclass
class Sent:
    """One message the OA sent (or tried to)."""

    path: str
    user_id: str
    body: dict[str, Any]
    error: int
    paid: bool = False

    @property
    def message(self) -> dict[str, Any]:
        return self.body.get("message") or {}

    @property
    def text(self) -> str:
        return str(self.message.get("text") or "")

    @property
    def payload(self) -> dict[str, Any]:
        return (self.message.get("attachment") or {}).get("payload") or {}

    @property
    def buttons(self) -> dict[str, str]:
        """Button title -> payload."""
        return {b["title"]: b["payload"] for b in self.payload.get("buttons", [])}


@dataclass
class _Tokens:
    access: dict[str, datetime] = field(default_factory=dict)
    refresh: set[str] = field(default_factory=set)
    spent: set[str] = field(default_factory=set)


class FakeZalo:
    """The fake platform. ``clock`` is the time Zalo sees (a test's fake clock)."""

    def __init__(
        self,
        *,
        app_id: str = "1234567890123456789",
        app_secret: str = "app-secret-xyz",
        oa_secret_key: str = "oa-secret-key-abc",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rate_limit: int = 4000,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.oa_secret_key = oa_secret_key
        self.clock = clock
        self.rate_limit = rate_limit
        self.users: dict[str, ZaloUser] = {}
        self.sent: list[Sent] = []
        self.uploads: dict[str, tuple[bytes, datetime]] = {}
        self.templates: set[str] = set()
        self.webhook_url: str | None = None
        self.refreshes = 0
        self.oauth_delay = 0.0
        self._tokens = _Tokens()
        self._requests: deque[float] = deque()
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.root = ""
        self.initial_refresh_token = self.issue_refresh_token()

    # ---------------------------------------------------------------------- life and setup

    async def start(self) -> None:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/v3.0/oa/message/cs", self._message_cs)
        app.router.add_post("/v3.0/oa/message/template", self._message_template)
        app.router.add_post("/message/template", self._message_by_phone)
        app.router.add_post("/v2.0/oa/upload/image", self._upload_image)
        app.router.add_get("/v3.0/oa/user/detail", self._user_detail)
        app.router.add_post("/v4/oa/access_token", self._access_token)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.root = f"http://127.0.0.1:{port}"
        self._client = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def issue_refresh_token(self) -> str:
        """A fresh refresh token (what an OA admin's consent would give)."""
        token = "rt-" + secrets.token_hex(8)
        self._tokens.refresh.add(token)
        return token

    def approve_template(self, template_id: str) -> None:
        self.templates.add(template_id)

    def user(self, user_id: str, name: str, phone: str = "84912345678") -> ZaloUser:
        self.users[user_id] = ZaloUser(user_id, name, phone)
        return self.users[user_id]

    def expire_access_tokens(self) -> None:
        """Every access token stops working now (as if Zalo revoked them)."""
        self._tokens.access.clear()

    # ------------------------------------------------------------------------- inspection

    def sent_to(self, user_id: str) -> list[Sent]:
        return [s for s in self.sent if s.user_id == user_id and s.error == 0]

    async def wait_for(self, predicate: Callable[[Sent], bool], within: float = 10) -> Sent:
        """The first successful send matching ``predicate`` (waiting for it if need be)."""
        deadline = time.monotonic() + within
        while True:
            for item in self.sent:
                if item.error == 0 and predicate(item):
                    return item
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                summary = "\n".join(
                    f"{s.path} {s.user_id} {s.error} {s.text[:60]!r}" for s in self.sent[-15:]
                )
                raise AssertionError(f"no matching Zalo message; last sends:\n{summary}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.2))

    async def said(self, user: ZaloUser, containing: str, within: float = 10) -> Sent:
        """The first message to ``user`` whose text contains ``containing``."""
        return await self.wait_for(lambda s: s.user_id == user.id and containing in s.text, within)

    # ---------------------------------------------------------------------------- webhooks

    def sign(self, body: bytes, timestamp: str) -> str:
        raw = self.app_id.encode() + body + timestamp.encode() + self.oa_secret_key.encode()
        return "mac=" + hashlib.sha256(raw).hexdigest()

    def _timestamp(self) -> str:
        return str(int(self.clock().timestamp() * 1000))

    def event(self, user: ZaloUser, name: str, **extra: Any) -> dict[str, Any]:
        """An event as Zalo would send it (``follower`` for follow and unfollow)."""
        body: dict[str, Any] = {
            "app_id": self.app_id,
            "user_id_by_app": f"app-{user.id}",
            "event_name": name,
            "timestamp": self._timestamp(),
        }
        if name in ("follow", "unfollow"):
            body |= {"oa_id": "oa-1", "follower": {"id": user.id}, "source": "testing"}
        else:
            body |= {"sender": {"id": user.id}, "recipient": {"id": "oa-1"}}
        return body | extra

    async def post_event(self, event: dict[str, Any], *, signature: str | None = "valid") -> int:
        """POST one event to the webhook; returns the HTTP status. ``signature=None`` leaves the
        header out; any other text than ``"valid"`` is sent as the header as is."""
        assert self.webhook_url and self._client is not None
        body = json.dumps(event, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "valid":
            headers["X-ZEvent-Signature"] = self.sign(body, str(event["timestamp"]))
        elif signature is not None:
            headers["X-ZEvent-Signature"] = signature
        async with self._client.post(self.webhook_url, data=body, headers=headers) as response:
            return response.status

    async def interact(self, user: ZaloUser, name: str, **extra: Any) -> dict[str, Any]:
        """The user does something: it counts for the windows, and the OA hears of it."""
        self.users[user.id] = user
        if name == "unfollow":
            user.followed = False
        else:
            user.followed = True
            user.last_interaction = self.clock()
        event = self.event(user, name, **extra)
        status = await self.post_event(event)
        assert status == 200, f"webhook answered {status}"
        return event

    async def text(self, user: ZaloUser, text: str) -> dict[str, Any]:
        msg_id = f"msg{next(self._ids):08d}{secrets.token_hex(4)}"
        return await self.interact(user, "user_send_text", message={"msg_id": msg_id, "text": text})

    async def press(self, sent: Sent, title: str) -> dict[str, Any]:
        """Tap a button under a message: ``oa.query.*`` sends its payload as the user's text."""
        return await self.text(self.users[sent.user_id], sent.buttons[title])

    async def follow(self, user: ZaloUser) -> dict[str, Any]:
        return await self.interact(user, "follow")

    async def unfollow(self, user: ZaloUser) -> dict[str, Any]:
        return await self.interact(user, "unfollow")

    async def submit_info(self, user: ZaloUser, phone: str | None = None) -> dict[str, Any]:
        """The user fills in the ``request_user_info`` form (their own number by default)."""
        info = {"name": user.name, "phone": phone or user.phone, "address": "", "city": ""}
        return await self.interact(user, "user_submit_info", info=info)

    async def image(self, user: ZaloUser) -> dict[str, Any]:
        msg_id = f"img{next(self._ids):08d}"
        attachment = {"type": "image", "payload": {"url": "https://example.invalid/a.jpg"}}
        return await self.interact(
            user, "user_send_image", message={"msg_id": msg_id, "attachments": [attachment]}
        )

    # ---------------------------------------------------------------------------- the API

    @staticmethod
    def _answer(error: int = 0, message: str = "Success", **data: Any) -> web.Response:
        body: dict[str, Any] = {"error": error, "message": message}
        if data:
            body["data"] = data
        return web.json_response(body)

    def _gate(self, request: web.Request) -> web.Response | None:
        """Rate limit and access token, as every OA call checks them."""
        now = time.monotonic()
        while self._requests and self._requests[0] <= now - 60:
            self._requests.popleft()
        if len(self._requests) >= self.rate_limit:
            return self._answer(-32, "Exceed rate limit")
        self._requests.append(now)
        token = request.headers.get("access_token", "")
        expires = self._tokens.access.get(token)
        if expires is None:
            return self._answer(-216, "Access token is invalid")
        if expires <= self.clock():
            return self._answer(-220, "Access token has expired")
        return None

    def _record(
        self, path: str, user_id: str, body: dict[str, Any], error: int, paid: bool = False
    ) -> None:
        self.sent.append(Sent(path, user_id, body, error, paid))
        self._changed.set()

    def _check_message(self, message: Any) -> str | None:
        if not isinstance(message, dict):
            return "message is required"
        text = message.get("text")
        attachment = message.get("attachment")
        if text is None and attachment is None:
            return "message needs text or an attachment"
        if text is not None and not (isinstance(text, str) and 0 < len(text) <= MAX_TEXT):
            return "text must be 1-2000 characters"
        if attachment is None:
            return None
        payload = attachment.get("payload") or {}
        if attachment.get("type") != "template":
            return "unsupported attachment type"
        kind = payload.get("template_type")
        if kind is None:
            buttons = payload.get("buttons") or []
            if not text or not buttons or len(buttons) > MAX_BUTTONS:
                return "buttons need text and 1-5 buttons"
            for button in buttons:
                if button.get("type") not in BUTTON_TYPES or not button.get("title"):
                    return "invalid button"
                if len(button["title"]) > 100 or not button.get("payload"):
                    return "invalid button"
            return None
        if kind == "media":
            elements = payload.get("elements") or []
            if len(elements) != 1 or elements[0].get("media_type") != "image":
                return "media needs one image element"
            stored = self.uploads.get(str(elements[0].get("attachment_id")))
            if stored is None or self.clock() - stored[1] > ATTACHMENT_LIFETIME:
                return "attachment_id is invalid or expired"
            return None
        if kind == "request_user_info":
            elements = payload.get("elements") or []
            if (
                len(elements) != 1
                or not elements[0].get("title")
                or not elements[0].get("subtitle")
            ):
                return "request_user_info needs one element with title and subtitle"
            return None
        return f"unsupported template_type {kind}"

    async def _message_cs(self, request: web.Request) -> web.Response:
        body = await request.json()
        user_id = str((body.get("recipient") or {}).get("user_id", ""))
        refused = self._gate(request)
        if refused is not None:
            self._record("cs", user_id, body, json.loads(refused.text or "{}")["error"])
            return refused
        user = self.users.get(user_id)
        if user is None or not user.followed:
            self._record("cs", user_id, body, -213)
            return self._answer(-213, "User has not followed OA")
        problem = self._check_message(body.get("message"))
        if problem is not None:
            self._record("cs", user_id, body, -201)
            return self._answer(-201, f"Parameters invalid: {problem}")
        age = self.clock() - (user.last_interaction or datetime.min.replace(tzinfo=UTC))
        if age > PAID_WINDOW:
            self._record("cs", user_id, body, -230)
            return self._answer(-230, "User has not interacted with the OA in the last 7 days")
        self._record("cs", user_id, body, 0, paid=age > FREE_WINDOW)
        return self._answer(message_id=f"m{next(self._ids)}", user_id=user_id)

    async def _message_template(self, request: web.Request) -> web.Response:
        body = await request.json()
        user_id = str((body.get("recipient") or {}).get("user_id", ""))
        refused = self._gate(request)
        if refused is not None:
            return refused
        user = self.users.get(user_id)
        if user is None or not user.followed:
            self._record("template", user_id, body, -213)
            return self._answer(-213, "User has not followed OA")
        if body.get("template_id") not in self.templates or not isinstance(
            body.get("template_data"), dict
        ):
            self._record("template", user_id, body, -201)
            return self._answer(-201, "Template is not approved or template_data is missing")
        self._record("template", user_id, body, 0)
        return self._answer(message_id=f"t{next(self._ids)}")

    async def _message_by_phone(self, request: web.Request) -> web.Response:
        body = await request.json()
        phone = str(body.get("phone", ""))
        refused = self._gate(request)
        if refused is not None:
            return refused
        user = next((u for u in self.users.values() if u.phone == phone), None)
        bad = (
            not (phone.startswith("84") and phone.isdigit() and len(phone) == 11)
            or body.get("template_id") not in self.templates
            or not 0 < len(str(body.get("tracking_id", ""))) <= 48
        )
        if bad:
            self._record("phone", user.id if user else phone, body, -201)
            return self._answer(-201, "Parameters invalid")
        self._record("phone", user.id if user else phone, body, 0)
        return self._answer(msg_id=f"p{next(self._ids)}", sent_time=self._timestamp())

    async def _upload_image(self, request: web.Request) -> web.Response:
        refused = self._gate(request)
        if refused is not None:
            return refused
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return self._answer(-201, "file is required")
        data = upload.file.read()
        if len(data) > MAX_IMAGE:
            return self._answer(-210, "File size exceeds 1MB")
        try:
            Image.open(io.BytesIO(data)).verify()
        except (UnidentifiedImageError, OSError):
            return self._answer(-201, "file is not an image")
        attachment_id = "att-" + secrets.token_hex(6)
        self.uploads[attachment_id] = (data, self.clock())
        return self._answer(attachment_id=attachment_id)

    async def _user_detail(self, request: web.Request) -> web.Response:
        refused = self._gate(request)
        if refused is not None:
            return refused
        user_id = str(json.loads(request.query.get("data", "{}")).get("user_id", ""))
        user = self.users.get(user_id)
        if user is None:
            return self._answer(-213, "User has not followed OA")
        return self._answer(user_id=user.id, display_name=user.name, user_is_follower=user.followed)

    async def _access_token(self, request: web.Request) -> web.Response:
        """OAuth v4: ``grant_type=refresh_token`` spends the refresh token and issues a new pair;
        ``authorization_code`` takes a code from ``issue_refresh_token`` the same way (the fake
        does not tell the two apart)."""
        form = await request.post()
        if (
            request.headers.get("secret_key") != self.app_secret
            or form.get("app_id") != self.app_id
        ):
            return web.json_response({"error": -14003, "error_name": "Invalid app credentials"})
        if self.oauth_delay:
            await asyncio.sleep(self.oauth_delay)
        grant = form.get("grant_type")
        presented = str(form.get("refresh_token" if grant == "refresh_token" else "code", ""))
        if grant not in ("refresh_token", "authorization_code"):
            return web.json_response({"error": -14001, "error_name": "Invalid grant_type"})
        if presented not in self._tokens.refresh:
            return web.json_response(
                {
                    "error": -14014,
                    "error_name": "Invalid refresh token",
                    "error_reason": "spent" if presented in self._tokens.spent else "unknown",
                }
            )
        self._tokens.refresh.discard(presented)
        self._tokens.spent.add(presented)
        self.refreshes += grant == "refresh_token"
        access = "at-" + secrets.token_hex(10)
        self._tokens.access[access] = self.clock() + ACCESS_LIFETIME
        refresh = self.issue_refresh_token()
        return web.json_response(
            {
                "access_token": access,
                "refresh_token": refresh,
                "expires_in": str(int(ACCESS_LIFETIME.total_seconds())),
            }
        )
