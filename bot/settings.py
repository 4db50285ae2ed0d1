"""One typed settings object for the whole program.

Every variable is read from the environment with the ``QUEN_`` prefix (or a ``.env`` file in the
working directory). The README's table lists each one with its default; keep the two in step.
"""

from __future__ import annotations

import os
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from loyalty.copywriter import LLMConfig
from loyalty.outbox import Policy, policy_from

DEFAULT_DATABASE_URL = "sqlite://data/quen.sqlite3"
_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_TEMPLATE_PREFIX = "QUEN_ZALO_TEMPLATE_"
_TEMPLATE_PATTERN = re.compile(r"(phone:)?[0-9A-Za-z_-]{1,64}")


class TelegramMode(StrEnum):
    POLLING = "polling"
    WEBHOOK = "webhook"


class LogFormat(StrEnum):
    TEXT = "text"
    #: One JSON object a line, for a log collector (Loki, CloudWatch, journald + jq).
    JSON = "json"


class Settings(BaseSettings):
    """Quen's configuration. Secrets are ``SecretStr`` so they never land in a log line."""

    model_config = SettingsConfigDict(
        env_prefix="QUEN_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    database_url: str = DEFAULT_DATABASE_URL
    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_mode: TelegramMode = TelegramMode.POLLING
    telegram_timeout: float = Field(default=10.0, gt=0, le=120)
    webhook_secret: SecretStr | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = None
    timezone: str = "Asia/Ho_Chi_Minh"
    default_language: str = "vi"
    owner_telegram_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    shop_name: str = "Quen Café"
    bot_username: str = "QuenBot"
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.TEXT
    logo_path: Path | None = None
    send_rate: float = Field(default=25.0, gt=0, le=1000)
    send_window: str = "08:00-21:00"
    marketing_daily_cap: int = 1
    marketing_weekly_cap: int = 2
    outbox_lease_seconds: float = Field(default=60.0, ge=1, le=3600)
    shop_tone: str = Field(default="", max_length=200)
    # The copywriter's model: none without a key (templates only). Either variable name works.
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("QUEN_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_timeout: float = Field(default=15.0, gt=0, le=120)
    llm_max_retries: int = Field(default=1, ge=0, le=5)
    # US dollars per million tokens, for the cost shown with each campaign.
    llm_price_input: float = Field(default=0.15, ge=0)
    llm_price_output: float = Field(default=0.60, ge=0)
    # Zalo Official Account (all three of app id, app secret and OA secret key, or none).
    zalo_app_id: str | None = None
    zalo_app_secret: SecretStr | None = None
    zalo_oa_secret_key: SecretStr | None = None
    zalo_refresh_token: SecretStr | None = None
    zalo_api_url: str = "https://openapi.zalo.me"
    zalo_business_api_url: str = "https://business.openapi.zalo.me"
    zalo_oauth_url: str = "https://oauth.zaloapp.com"
    zalo_paid_messages: bool = False
    #: Message kind -> approved template (``QUEN_ZALO_TEMPLATE_<KIND>``), read by ``_templates``.
    zalo_templates: dict[str, str] = Field(default_factory=dict)
    api_rate_per_minute: int = Field(default=600, ge=1, le=1_000_000)
    # Seconds a SIGTERM may take: the service manager's stop timeout must be longer.
    shutdown_timeout: float = Field(default=20.0, gt=0, le=600)
    #: ``Authorization: Bearer`` for ``/metrics``; unset = open to whoever reaches the port.
    metrics_token: SecretStr | None = None

    @field_validator("owner_telegram_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(" ", "").split(",") if part]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("default_language")
    @classmethod
    def _supported_language(cls, value: str) -> str:
        if value not in ("vi", "en"):
            raise ValueError("must be 'vi' or 'en'")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgres://", "postgresql://", "asyncpg://")):
            raise ValueError("must start with sqlite:// or postgres://")
        return value

    @model_validator(mode="before")
    @classmethod
    def _templates(cls, data: object) -> object:
        """``QUEN_ZALO_TEMPLATE_EARNED=123`` (or ``phone:123``) from the environment and the
        ``.env`` file: one variable per message kind, so they cannot be a single field."""
        if not isinstance(data, dict) or "zalo_templates" in data:
            return data
        found = {
            name[len(_TEMPLATE_PREFIX) :].lower(): str(value)
            for name, value in {**dotenv_values(".env"), **os.environ}.items()
            if name.upper().startswith(_TEMPLATE_PREFIX) and value
        }
        return {**data, "zalo_templates": found}

    @field_validator("zalo_templates")
    @classmethod
    def _template_shape(cls, value: dict[str, str]) -> dict[str, str]:
        for kind, template in value.items():
            if not _TEMPLATE_PATTERN.fullmatch(template):
                raise ValueError(
                    f"QUEN_ZALO_TEMPLATE_{kind.upper()}={template!r}: "
                    "a template id, or phone:<template id>"
                )
        return value

    @model_validator(mode="after")
    def _zalo_all_or_nothing(self) -> Settings:
        given = [self.zalo_app_id, self.zalo_app_secret, self.zalo_oa_secret_key]
        if any(given) and not all(given):
            raise ValueError(
                "QUEN_ZALO_APP_ID, QUEN_ZALO_APP_SECRET and QUEN_ZALO_OA_SECRET_KEY: "
                "set all three for Zalo, or none"
            )
        return self

    @property
    def zalo_enabled(self) -> bool:
        return bool(self.zalo_app_id and self.zalo_app_secret and self.zalo_oa_secret_key)

    @field_validator(
        "telegram_api_url",
        "public_url",
        "llm_base_url",
        "zalo_api_url",
        "zalo_business_api_url",
        "zalo_oauth_url",
    )
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret_alphabet(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET_PATTERN.fullmatch(value.get_secret_value()):
            raise ValueError("1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    @model_validator(mode="after")
    def _webhook_needs_url_and_secret(self) -> Settings:
        if self.telegram_mode is TelegramMode.WEBHOOK and self.telegram_token is not None:
            if not self.public_url:
                raise ValueError("QUEN_PUBLIC_URL: required when QUEN_TELEGRAM_MODE=webhook")
            if self.webhook_secret is None:
                raise ValueError("QUEN_WEBHOOK_SECRET: required when QUEN_TELEGRAM_MODE=webhook")
        return self

    @field_validator("logo_path")
    @classmethod
    def _readable_logo(cls, value: Path | None) -> Path | None:
        if value is not None:
            from loyalty.voucher_card import load_logo

            load_logo(value)  # raises ValueError naming the file
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def marketing_policy(self) -> Policy:
        """The send window and caps. A value that makes no sense holds marketing (logged, and
        shown in ``/outbox``) instead of stopping the bot: transactional messages still flow."""
        return policy_from(
            self.send_window, self.marketing_daily_cap, self.marketing_weekly_cap, self.zone
        )

    def llm(self) -> LLMConfig:
        """The copywriter's connection; an empty key counts as none."""
        key = self.openai_api_key.get_secret_value() if self.openai_api_key else ""
        return LLMConfig(
            api_key=key or None,
            base_url=self.llm_base_url,
            model=self.llm_model,
            timeout=self.llm_timeout,
            max_retries=self.llm_max_retries,
            price_in_per_mtok=self.llm_price_input,
            price_out_per_mtok=self.llm_price_output,
        )

    def sqlite_path(self) -> Path | None:
        """The database file, for SQLite URLs (so start-up can create its folder)."""
        if not self.database_url.startswith("sqlite://"):
            return None
        path = self.database_url.removeprefix("sqlite://").split("?", 1)[0]
        return None if path == ":memory:" else Path(path)


class SettingsError(Exception):
    """A setting is wrong; the message names the variable in one line."""


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one line that names the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        if not first["loc"]:  # a rule across settings: the message names the variable itself
            raise SettingsError(message) from None
        raise SettingsError(f"QUEN_{str(first['loc'][0]).upper()}: {message}") from None
