"""A thin client for the Zalo Official Account Open API (v3) and its OAuth v4 tokens.

There is no maintained Python SDK for OA v3, so this is our own, on aiohttp. Zalo answers HTTP 200
even for errors, with ``"error" != 0`` in the body: every answer is checked, and the codes we act
on become exceptions of their own (``ZaloError`` and its subclasses).

Tokens (``TokenStore``): the access token lives 25 h and the refresh token works ONCE, so the pair
is kept in the database (``models.zalo.ZaloToken``) and refreshed well before expiry by one
process at a time. The claim is a conditional ``UPDATE`` on the row's ``version`` (the same on
SQLite and PostgreSQL, and no transaction is held open during the HTTP call): the process whose
claim succeeds refreshes and stores the new pair with ``version + 1``; a process whose claim fails
waits for the new version and reads it, spending nothing. A ``-216``/``-220`` answer (token
invalid or expired) refreshes once and retries once. A failed refresh is recorded on the row and
reported to ``on_refresh_failure`` (the app alerts the owners): a spent or revoked refresh token
needs a person to run ``quen zalo authorize``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import secrets
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp
from tortoise.exceptions import IntegrityError

from locales import t
from models.zalo import ZaloToken

log = logging.getLogger(__name__)

#: Error codes of the OA API that we act on (the API answers HTTP 200 with these in ``error``).
RATE_LIMITED = -32
TOKEN_INVALID = -216
TOKEN_EXPIRED = -220
NOT_FOLLOWER = -213
OUTSIDE_WINDOW = -230
TOKEN_ERRORS = frozenset({TOKEN_INVALID, TOKEN_EXPIRED})

#: Zalo's limit is 4,000 requests a minute per app.
REQUESTS_PER_MINUTE = 4000
#: Refresh this long before the access token expires (it lives 25 h: about every 20 h).
REFRESH_AHEAD = timedelta(hours=5)
#: How long a refresh claim holds: longer than the OAuth call can take (``OAUTH_TIMEOUT``), so a
#: claim never runs out while its holder is still waiting for Zalo's answer.
REFRESH_LEASE = timedelta(seconds=60)
OAUTH_TIMEOUT = 20.0
#: How long a process that lost the claim waits for the winner's new token.
WAIT_FOR_OTHER = 45.0


class ZaloError(Exception):
    """Zalo answered with an error code (HTTP 200, ``error != 0``) or an unusable body."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"zalo error {code}: {message}")
        self.code = code
        self.message = message


class TokenError(ZaloError):
    """The access token was refused, and a refresh did not help."""


class RateLimited(ZaloError):
    """Over 4,000 requests a minute (``-32``)."""


class NotFollower(ZaloError):
    """The person does not follow the OA (any more): nothing can be sent to them."""


class OutsideWindow(ZaloError):
    """The person has not interacted for too long for this kind of message (``-230``)."""


class RefreshFailed(Exception):
    """The refresh token was refused (spent, revoked or expired): re-authorise with
    ``quen zalo authorize``."""


class NotAuthorised(Exception):
    """No token pair is stored yet: set ``QUEN_ZALO_REFRESH_TOKEN`` or run ``quen zalo
    authorize``."""


_ERRORS: dict[int, type[ZaloError]] = {
    RATE_LIMITED: RateLimited,
    TOKEN_INVALID: TokenError,
    TOKEN_EXPIRED: TokenError,
    NOT_FOLLOWER: NotFollower,
    OUTSIDE_WINDOW: OutsideWindow,
}


def check(body: Any) -> dict[str, Any]:
    """The body if it says success, else the matching ``ZaloError``."""
    if not isinstance(body, dict):
        raise ZaloError(0, f"unexpected answer {str(body)[:100]!r}")
    code = int(body.get("error", 0) or 0)
    if code != 0:
        raise _ERRORS.get(code, ZaloError)(code, str(body.get("message", "")))
    return body


class RateLimiter:
    """At most ``limit`` requests in any ``period`` seconds, for this process (a sliding window
    of start times). Zalo counts per app: processes sharing an app share the budget."""

    def __init__(self, limit: int = REQUESTS_PER_MINUTE, period: float = 60.0) -> None:
        self.limit = limit
        self.period = period
        self._starts: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def wait_turn(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                while self._starts and self._starts[0] <= now - self.period:
                    self._starts.popleft()
                if len(self._starts) < self.limit:
                    self._starts.append(now)
                    return
                await asyncio.sleep(self._starts[0] + self.period - now)


@dataclass(frozen=True)
class Credentials:
    app_id: str
    app_secret: str
    oauth_url: str


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: timedelta


async def request_tokens(
    session: aiohttp.ClientSession, credentials: Credentials, form: dict[str, str]
) -> TokenPair:
    """One call to ``/v4/oa/access_token`` (form body, the app secret in the ``secret_key``
    header). Zalo sends ``expires_in`` as a string. Raises ``RefreshFailed`` on any refusal."""
    url = f"{credentials.oauth_url}/v4/oa/access_token"
    async with session.post(
        url,
        data={**form, "app_id": credentials.app_id},
        headers={"secret_key": credentials.app_secret},
        timeout=aiohttp.ClientTimeout(total=OAUTH_TIMEOUT),
    ) as response:
        text = await response.text()
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        raise RefreshFailed(f"HTTP {response.status}: {text[:120]!r}") from None
    if not isinstance(body, dict) or not body.get("access_token") or not body.get("refresh_token"):
        detail = body.get("error_name") or body.get("message") if isinstance(body, dict) else None
        code = body.get("error") if isinstance(body, dict) else None
        raise RefreshFailed(f"Zalo refused the token request ({code}: {detail or text[:120]})")
    return TokenPair(
        str(body["access_token"]),
        str(body["refresh_token"]),
        timedelta(seconds=int(body.get("expires_in") or 90000)),
    )


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (what the OA consent URL carries)."""
    verifier = secrets.token_urlsafe(32)[:43]
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def consent_url(credentials: Credentials, redirect_uri: str, challenge: str, state: str) -> str:
    """Where the OA admin grants the app access; Zalo then redirects with ``?code=...``."""
    query = urlencode(
        {
            "app_id": credentials.app_id,
            "redirect_uri": redirect_uri,
            "code_challenge": challenge,
            "state": state,
        }
    )
    return f"{credentials.oauth_url}/v4/oa/permission?{query}"


Clock = Callable[[], datetime]
FailureHook = Callable[[str], Awaitable[None]]


class TokenStore:
    """The OA's token pair, shared by every process through the database (see the module)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        credentials: Credentials,
        clock: Clock,
        *,
        initial_refresh_token: str | None = None,
        on_refresh_failure: FailureHook | None = None,
    ) -> None:
        self.session = session
        self.credentials = credentials
        self.clock = clock
        self.initial_refresh_token = initial_refresh_token
        self.on_refresh_failure = on_refresh_failure
        self.worker = f"{socket.gethostname()[:24]}:{os.getpid()}:{id(self) % 10_000}"

    async def _row(self) -> ZaloToken:
        row = await ZaloToken.get_or_none(app_id=self.credentials.app_id)
        if row is not None:
            return row
        if not self.initial_refresh_token:
            raise NotAuthorised("no Zalo token stored: run `quen zalo authorize`")
        try:
            return await ZaloToken.create(
                app_id=self.credentials.app_id,
                refresh_token=self.initial_refresh_token,
                updated_at=self.clock(),
            )
        except IntegrityError:  # another process seeded it first
            return await ZaloToken.get(app_id=self.credentials.app_id)

    async def store(self, pair: TokenPair) -> None:
        """Keep a pair from ``quen zalo authorize`` (replacing whatever was stored)."""
        now = self.clock()
        values: dict[str, Any] = {
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
            "access_expires_at": now + pair.expires_in,
            "refreshing_by": None,
            "refreshing_until": None,
            "failure": None,
            "updated_at": now,
        }
        row = await ZaloToken.get_or_none(app_id=self.credentials.app_id)
        if row is None:
            await ZaloToken.create(app_id=self.credentials.app_id, **values)
        else:
            await ZaloToken.filter(id=row.id).update(version=row.version + 1, **values)

    async def access_token(self) -> tuple[str, int]:
        """A usable access token and the version it belongs to; refreshed first if it expires
        within ``REFRESH_AHEAD``."""
        row = await self._row()
        expires = row.access_expires_at
        if row.access_token and expires is not None and expires - self.clock() > REFRESH_AHEAD:
            return row.access_token, row.version
        return await self.refresh(row.version)

    async def refresh(self, seen_version: int) -> tuple[str, int]:
        """Replace the pair whose version is ``seen_version``, or, if another process already
        did (or is doing it), wait for and return its result."""
        now = self.clock()
        claimed = await ZaloToken.filter(
            app_id=self.credentials.app_id, version=seen_version, refreshing_until__isnull=True
        ).update(refreshing_by=self.worker, refreshing_until=now + REFRESH_LEASE)
        if not claimed:  # a lease left by a crashed process may be taken over when it ends
            claimed = await ZaloToken.filter(
                app_id=self.credentials.app_id, version=seen_version, refreshing_until__lt=now
            ).update(refreshing_by=self.worker, refreshing_until=now + REFRESH_LEASE)
        if not claimed:
            return await self._await_other(seen_version)
        row = await ZaloToken.get(app_id=self.credentials.app_id)
        try:
            pair = await request_tokens(
                self.session,
                self.credentials,
                {"refresh_token": row.refresh_token, "grant_type": "refresh_token"},
            )
        except (RefreshFailed, aiohttp.ClientError, TimeoutError) as error:
            reason = str(error) or type(error).__name__
            await ZaloToken.filter(id=row.id, refreshing_by=self.worker).update(
                refreshing_by=None, refreshing_until=None, failure=reason[:255]
            )
            log.error(
                "zalo: token refresh failed (%s). Re-authorise with `quen zalo authorize`.", reason
            )
            if self.on_refresh_failure is not None and isinstance(error, RefreshFailed):
                await self.on_refresh_failure(reason)
            raise RefreshFailed(reason) from error
        done = self.clock()
        await ZaloToken.filter(id=row.id, refreshing_by=self.worker).update(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            access_expires_at=done + pair.expires_in,
            version=seen_version + 1,
            refreshing_by=None,
            refreshing_until=None,
            failure=None,
            updated_at=done,
        )
        log.info("zalo: access token refreshed (version %d)", seen_version + 1)
        return pair.access_token, seen_version + 1

    async def _await_other(self, seen_version: int) -> tuple[str, int]:
        """Another process holds the claim: poll for its new version instead of refreshing."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_FOR_OTHER
        while loop.time() < deadline:
            row = await ZaloToken.get(app_id=self.credentials.app_id)
            if row.version != seen_version and row.access_token:
                return row.access_token, row.version
            if row.refreshing_until is None and row.failure:
                raise RefreshFailed(row.failure)
            await asyncio.sleep(0.1)
        raise RefreshFailed("another process's token refresh did not finish in time")


class ZaloApi:
    """The OA calls Quen makes. Every call waits its turn under the rate limit, carries the
    ``access_token`` header, and is checked for ``error``; a token error refreshes once and
    retries once."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_url: str,
        business_url: str,
        tokens: TokenStore,
        limiter: RateLimiter,
        timeout: float = 10.0,
    ) -> None:
        self.session = session
        self.api_url = api_url
        self.business_url = business_url
        self.tokens = tokens
        self.limiter = limiter
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def _call(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        form: Callable[[], aiohttp.FormData] | None = None,
        params: Any = None,
    ) -> dict[str, Any]:
        """One API call. ``form`` builds a multipart body (aiohttp sends a FormData once only,
        so a retry needs a new one)."""
        token, version = await self.tokens.access_token()
        for attempt in range(2):
            await self.limiter.wait_turn()
            async with self.session.request(
                method,
                url,
                json=json_body,
                data=form() if form is not None else None,
                params=params,
                headers={"access_token": token},
                timeout=self.timeout,
            ) as response:
                if response.status >= 400:
                    raise aiohttp.ClientResponseError(
                        response.request_info,
                        (),
                        status=response.status,
                        message=response.reason or "",
                    )
                body = await response.json(content_type=None)
            try:
                return check(body)
            except TokenError:
                if attempt:
                    raise
                log.warning("zalo: access token refused, refreshing once")
                token, version = await self.tokens.refresh(version)
        raise AssertionError("unreachable")  # the loop returns or raises

    async def send_cs(self, user_id: str, message: dict[str, Any]) -> dict[str, Any]:
        """A consultation message (free within 48 h of the person's last message)."""
        body = {"recipient": {"user_id": user_id}, "message": message}
        return await self._call("POST", f"{self.api_url}/v3.0/oa/message/cs", json_body=body)

    async def send_template(
        self, user_id: str, template_id: str, template_data: dict[str, str]
    ) -> dict[str, Any]:
        """An approved template to a follower, by user id (allowed outside the window)."""
        body = {
            "recipient": {"user_id": user_id},
            "template_id": template_id,
            "template_data": template_data,
        }
        return await self._call("POST", f"{self.api_url}/v3.0/oa/message/template", json_body=body)

    async def send_template_by_phone(
        self, phone: str, template_id: str, template_data: dict[str, str], tracking_id: str
    ) -> dict[str, Any]:
        """An approved template by phone number (``84xxxxxxxxx``), for people outside any window."""
        body = {
            "phone": phone,
            "template_id": template_id,
            "template_data": template_data,
            "tracking_id": tracking_id[:48],
        }
        return await self._call("POST", f"{self.business_url}/message/template", json_body=body)

    async def upload_image(self, image: bytes, filename: str = "image.png") -> str:
        """Upload an image (up to 1 MB): its ``attachment_id``, valid for 7 days."""
        content_type = "image/jpeg" if filename.endswith(".jpg") else "image/png"

        def form() -> aiohttp.FormData:
            data = aiohttp.FormData()
            data.add_field("file", image, filename=filename, content_type=content_type)
            return data

        body = await self._call("POST", f"{self.api_url}/v2.0/oa/upload/image", form=form)
        return str(body["data"]["attachment_id"])

    async def user_name(self, user_id: str) -> str:
        """The follower's display name on Zalo (empty if Zalo does not say)."""
        body = await self._call(
            "GET",
            f"{self.api_url}/v3.0/oa/user/detail",
            params={"data": json.dumps({"user_id": user_id})},
        )
        data = body.get("data") or {}
        return str(data.get("display_name") or "")


async def authorize(
    settings: Any, redirect_uri: str, read: Callable[[str], str], say: Callable[[str], None]
) -> int:
    """``quen zalo authorize``: the consent URL (PKCE), then the code -> a fresh token pair in the
    database, replacing a spent or revoked one. ``settings`` is ``bot.settings.Settings``; what
    is said is in its ``default_language``, the operator's."""
    from datetime import UTC

    language = settings.default_language

    credentials = Credentials(
        settings.zalo_app_id,
        settings.zalo_app_secret.get_secret_value(),
        settings.zalo_oauth_url,
    )
    verifier, challenge = pkce_pair()
    say(t(language, "cli-zalo-open"))
    say(consent_url(credentials, redirect_uri, challenge, secrets.token_urlsafe(8)))
    code = read(t(language, "cli-zalo-paste") + " ").strip()
    if "code=" in code:  # the whole address was pasted
        code = code.split("code=", 1)[1].split("&", 1)[0]
    async with aiohttp.ClientSession() as session:
        try:
            pair = await request_tokens(
                session,
                credentials,
                {"code": code, "code_verifier": verifier, "grant_type": "authorization_code"},
            )
        except (RefreshFailed, aiohttp.ClientError) as error:
            say(t(language, "cli-zalo-refused", error=str(error)))
            return 1
        store = TokenStore(session, credentials, lambda: datetime.now(UTC))
        await store.store(pair)
    say(t(language, "cli-zalo-done"))
    return 0
