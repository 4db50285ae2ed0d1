"""One typed settings object for the whole program.

Every variable is read from the environment with the ``QUEN_`` prefix (or a ``.env`` file in the
working directory). The README's table lists each one with its default; keep the two in step.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from loyalty.outbox import Policy, policy_from

DEFAULT_DATABASE_URL = "sqlite://data/quen.sqlite3"
_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class TelegramMode(StrEnum):
    POLLING = "polling"
    WEBHOOK = "webhook"


class Settings(BaseSettings):
    """Quen's configuration. Secrets are ``SecretStr`` so they never land in a log line."""

    model_config = SettingsConfigDict(
        env_prefix="QUEN_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
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
    logo_path: Path | None = None
    send_rate: float = Field(default=25.0, gt=0, le=1000)
    send_window: str = "08:00-21:00"
    marketing_daily_cap: int = 1
    marketing_weekly_cap: int = 2
    outbox_lease_seconds: float = Field(default=60.0, ge=1, le=3600)
    api_rate_per_minute: int = Field(default=600, ge=1, le=1_000_000)

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

    @field_validator("telegram_api_url", "public_url")
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
