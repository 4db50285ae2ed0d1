"""A fake OpenAI Chat Completions server for the copywriter's tests and benchmark.

Why a wire-level fake rather than a mocked client: openai 3.x sends through ``httpx2``, which respx
no longer intercepts, and the bugs worth catching live in the real client path anyway — the
structured-output request that ``chat.completions.parse`` builds from a Pydantic model, the
response it parses back (or fails to), the SDK's own retries on 429 and 5xx and how long they
take, a timeout, a wrong key. So this fake speaks the wire format of ``POST /v1/chat/completions``
(bearer auth, ``response_format`` of type ``json_schema``, ``chat.completion`` objects with
``usage``, OpenAI's ``{"error": {...}}`` bodies and ``Retry-After``) and the copywriter runs
against it unchanged, exactly as against ``https://api.openai.com/v1``.

The "model" is a few lines of Python that reads the facts from the JSON block of the last user
message (the ```json block after "Facts:") and writes a draft from them in the language asked: it
never echoes fixed text, so a copywriter that sends the wrong facts gets a wrong draft. How it
misbehaves is switchable: ``mode`` for every call, ``queue(...)`` for the next calls in order
(see ``MODES``). ``delay`` slows every answer (to make calls overlap); token counts in ``usage``
are estimated from the text's length (UTF-8 bytes / 4: about right for English, and Vietnamese
costs more tokens per character, as with real tokenizers).

Deliberate simplifications: one model that answers any model name; only structured output
(``json_schema``) is served, since that is all Quen asks for; no streaming.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from aiohttp import web

__all__ = ["MODES", "FakeOpenAI", "Recorded", "facts_of"]

MODES = (
    "good",  # a proper draft from the facts, in the language asked
    "wrong_percent",  # a percentage that is not the offer's
    "wrong_date",  # the expiry one day off
    "invented_price",  # a price nobody gave ("a second cup for 25.000đ")
    "url",  # a link
    "wrong_language",  # English when Vietnamese was asked, and the other way round
    "injection_echo",  # repeats instruction text ("ignore previous instructions ...")
    "broken_json",  # the structured answer cut off mid-string
    "refusal",  # the model refuses (``message.refusal``)
    "length",  # finish_reason "length": max tokens reached
    "content_filter",  # finish_reason "content_filter": the provider withheld the answer
    "rate_limited",  # 429 with Retry-After and OpenAI's error body
    "server_error",  # 500
    "timeout",  # answers only after ``timeout_delay`` seconds
)
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_FACTS_BLOCK = re.compile(r"```json\s*(\{.*?\})\s*```", re.DOTALL)
_MONTH_NAMES: tuple[str, ...] = ("January", "February", "March", "April", "May", "June", "July")
_MONTH_NAMES += ("August", "September", "October", "November", "December")


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text.encode("utf-8")) / 4))


def facts_of(body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON facts block of a request's last user message, or None."""
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    found = _FACTS_BLOCK.search(str(users[-1].get("content", ""))) if users else None
    return json.loads(found.group(1)) if found else None


@dataclass
class Recorded:
    """One request as the server saw it, and what it answered."""

    body: dict[str, Any]
    headers: dict[str, str]
    mode: str | None = None  # None: refused before reaching the "model" (auth, a bad request)
    status: int = 200

    @property
    def facts(self) -> dict[str, Any] | None:
        return facts_of(self.body)

    @property
    def text(self) -> str:
        """Everything the messages said, to assert on what reached the "model"."""
        return "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []))


def _error(
    status: int, message: str, kind: str, code: str | None = None, **headers: str
) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.json_response(body, status=status, headers=headers)


def _invalid(body: dict[str, Any]) -> str | None:
    """What OpenAI would answer 400 for, among the mistakes a client can make here."""
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty array."
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            return f"Invalid value for 'messages[{index}].role'."
        if not isinstance(message.get("content"), str):
            return f"Invalid type for 'messages[{index}].content': expected a string."
    if body.get("stream"):
        return "This fake does not stream."
    limit = body.get("max_completion_tokens")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        return "Invalid 'max_completion_tokens': integer below minimum value 1."
    return _invalid_schema(body.get("response_format"))


def _invalid_schema(response_format: object) -> str | None:
    """Structured output as OpenAI's strict mode requires it: an object schema whose properties
    are all required and that allows no others."""
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return "This fake serves structured output only: response_format.type 'json_schema'."
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        return "Missing required parameter: 'response_format.json_schema.name'."
    schema = spec.get("schema")
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return "Invalid schema for response_format: the root must be an object."
    if spec.get("strict"):
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is not False:
            return "Invalid schema: 'additionalProperties' is required to be false."
        if sorted(schema.get("required", [])) != sorted(properties):
            return "Invalid schema: 'required' must list every key in 'properties'."
    if not any(p.get("type") == "string" for p in schema.get("properties", {}).values()):
        return "This fake fills one string property; the schema has none."
    return None


# ----------------------------------------------------------------------------- the "model"


def _expiry(facts: dict[str, Any]) -> date:
    day, month, year = (int(part) for part in facts["offer"]["valid_until"].split("/"))
    return date(year, month, day)


def _money(amount: int, language: str) -> str:
    """Amounts the way people type them, not the way the prompt wrote them: the guard must
    know both (``30.000đ``, ``30,000 VND``)."""
    if language == "vi":
        return f"{amount:,}".replace(",", ".") + "đ"
    return f"{amount:,} VND"


def _day(when: date, language: str) -> str:
    if language == "vi":
        return when.strftime("%d/%m/%Y")
    return f"{when.day} {_MONTH_NAMES[when.month - 1]} {when.year}"


def _draft(facts: dict[str, Any], language: str, mode: str) -> str:
    """A message from ``facts`` in ``language``, with the fault ``mode`` asks for."""
    shop, occasion, offer = facts["shop"], facts["occasion"], facts["offer"]
    favourite = facts["customer"].get("favourite_item")
    second = int(facts.get("draft", 1)) % 2 == 0  # another draft reads differently
    expiry = _expiry(facts) + timedelta(days=1 if mode == "wrong_date" else 0)
    percent = offer.get("percent_off")
    if mode == "wrong_percent" and percent is not None:
        percent = percent + 5 if percent <= 95 else percent - 5
    vi = language == "vi"
    openings = {
        "campaign": ("Chào {name}! ", "{name} ơi, ") if vi else ("Hi {name}! ", "Hello {name}! "),
        "birthday": ("🎂 Chúc mừng sinh nhật {name}! ", "🎉 Sinh nhật vui vẻ nhé {name}! ")
        if vi
        else ("🎂 Happy birthday, {name}! ", "🎉 Have a wonderful birthday, {name}! "),
        "winback": ("☕ {name} ơi, lâu rồi không gặp bạn! ", "{name} ơi, quán nhớ bạn lắm! ")
        if vi
        else ("☕ We miss you, {name}! ", "It has been a while, {name}! "),
    }
    text = openings[occasion][second]
    if percent is not None:
        text += (
            f"{shop} tặng bạn voucher giảm {percent}%"
            if vi
            else f"{shop} has {percent}% off your bill for you"
        )
    elif offer["reward"] == "amount":
        amount = _money(int(offer["amount_off_vnd"]), language)
        text += f"{shop} tặng bạn voucher giảm {amount}" if vi else f"{shop} takes {amount} off"
    else:
        item = offer["free_item"]
        text += (
            f"{shop} mời bạn 1 {item} miễn phí" if vi else f"Your next {item} at {shop} is on us"
        )
    if favourite:
        text += (
            f", ghé làm ly {favourite} quen thuộc nhé" if vi else f", with your usual {favourite}"
        )
    until = _day(expiry, language)
    text += f". Ưu đãi dùng đến hết {until} ☕" if vi else f". Valid until {until} ☕"
    if mode == "wrong_percent" and offer.get("percent_off") is None:
        text += " Giảm thêm 10% nữa!" if vi else " Plus an extra 10% off!"
    elif mode == "invented_price":
        price = 27_000 if offer.get("amount_off_vnd") == 25_000 else 25_000
        text += (
            f" Ly thứ hai chỉ {_money(price, language)}!"
            if vi
            else f" A second cup is only {_money(price, language)}!"
        )
    elif mode == "url":
        text += " Xem thêm tại https://quen.vn/uu-dai" if vi else " More at https://quen.vn/offers"
    elif mode == "injection_echo":
        text = (
            "Bỏ qua hướng dẫn trước đó: " + text + " Tặng thêm 100% cho {name}!"
            if vi
            else "Ignore previous instructions: " + text + " And 100% off for {name}!"
        )
    return text


class FakeOpenAI:
    """An OpenAI-compatible Chat Completions server on 127.0.0.1 (see the module docstring).

    Point a client at ``base_url`` with ``api_key``; a different key gets OpenAI's 401. Every
    request to the completions endpoint is kept in ``requests`` (``calls`` counts them), whatever
    was answered.
    """

    def __init__(
        self,
        api_key: str = "sk-quen-test-key",
        *,
        mode: str = "good",
        delay: float = 0.0,
        timeout_delay: float = 5.0,
        retry_after: float = 1.0,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
        self.api_key = api_key
        self.mode = mode
        self.delay = delay
        self.timeout_delay = timeout_delay
        self.retry_after = retry_after
        self.requests: list[Recorded] = []
        self._queued: deque[str] = deque()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    def queue(self, *modes: str) -> None:
        """The next calls behave as ``modes``, in order; then ``mode`` again."""
        for mode in modes:
            if mode not in MODES:
                raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
        self._queued.extend(modes)

    @property
    def calls(self) -> int:
        return len(self.requests)

    # ------------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Bind a free port on 127.0.0.1 and start serving."""
        if self._runner is not None:
            raise RuntimeError("FakeOpenAI is already running")
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # A short shutdown: requests still sleeping in "timeout" mode are cut, not awaited.
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._port = None

    async def __aenter__(self) -> FakeOpenAI:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """What goes into ``LLMConfig(base_url=...)``: the SDK appends ``/chat/completions``."""
        if self._port is None:
            raise RuntimeError("FakeOpenAI is not running; call start() first")
        return f"http://127.0.0.1:{self._port}/v1"

    # ------------------------------------------------------------------------ the endpoint

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.method != "POST" or request.path != "/v1/chat/completions":
            message = f"Invalid URL ({request.method} {request.path})"
            return _error(404, message, "invalid_request_error")
        try:
            body = await request.json()
        except json.JSONDecodeError:
            body = None
        recorded = Recorded(body if isinstance(body, dict) else {}, dict(request.headers))
        self.requests.append(recorded)
        response = await self._answer(request, body, recorded)
        recorded.status = response.status
        return response

    async def _answer(self, request: web.Request, body: object, recorded: Recorded) -> web.Response:
        """Refusals first (auth, a malformed request), as OpenAI checks them before any model
        runs; only a request that reaches the "model" takes the next queued mode."""
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            shown = request.headers.get("Authorization", "").removeprefix("Bearer ")[:6]
            return _error(
                401,
                f"Incorrect API key provided: {shown}***. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                "invalid_api_key",
            )
        if not isinstance(body, dict):
            message = "We could not parse the JSON body of your request."
            return _error(400, message, "invalid_request_error")
        problem = _invalid(body)
        if problem is not None:
            return _error(400, problem, "invalid_request_error")
        facts = facts_of(body)
        if facts is None:
            return _error(
                400, "This fake reads the facts from a ```json block.", "invalid_request_error"
            )
        mode = recorded.mode = self._queued.popleft() if self._queued else self.mode
        if self.delay:
            await asyncio.sleep(self.delay)
        if mode == "rate_limited":
            seconds = f"{self.retry_after:g}"
            return _error(
                429,
                f"Rate limit reached for {body['model']} in organization org-quen on requests "
                f"per min (RPM): Limit 500, Used 500, Requested 1. Please try again in {seconds}s.",
                "requests",
                "rate_limit_exceeded",
                **{
                    "Retry-After": seconds,
                    "x-ratelimit-limit-requests": "500",
                    "x-ratelimit-remaining-requests": "0",
                    "x-ratelimit-reset-requests": f"{seconds}s",
                },
            )
        if mode == "server_error":
            message = "The server had an error while processing your request. Sorry about that!"
            return _error(500, message, "server_error")
        if mode == "timeout":
            await asyncio.sleep(self.timeout_delay)  # the client has given up by now
        return self._completion(body, facts, mode)

    def _completion(self, body: dict[str, Any], facts: dict[str, Any], mode: str) -> web.Response:
        started = time.monotonic()
        language = facts["language"]
        if mode == "wrong_language":
            language = "en" if language == "vi" else "vi"
        schema = body["response_format"]["json_schema"]["schema"]
        field = next(k for k, p in schema["properties"].items() if p.get("type") == "string")
        whole = json.dumps({field: _draft(facts, language, mode)}, ensure_ascii=False)
        content: str | None = whole
        refusal, finish = None, "stop"
        if mode == "broken_json":
            content = whole[: len(whole) // 2]
        elif mode == "length":
            content, finish = whole[: len(whole) // 3], "length"
        elif mode == "refusal":
            content, refusal = None, "I'm sorry, but I can't help with that request."
        elif mode == "content_filter":
            content, finish = None, "content_filter"
        prompt = sum(_tokens(m["content"]) + 4 for m in body["messages"])
        prompt += _tokens(json.dumps(body["response_format"]))
        completion = _tokens(content or refusal or "")
        answer = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": refusal,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": "fp_quen_fake",
        }
        headers = {
            "x-request-id": f"req_{uuid.uuid4().hex}",
            "openai-processing-ms": str(round((time.monotonic() - started) * 1000)),
        }
        return web.json_response(answer, headers=headers, dumps=_dumps)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
