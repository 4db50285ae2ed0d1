"""Settings: defaults, and one clear line naming the variable when something is wrong."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.settings import DEFAULT_DATABASE_URL, SettingsError, TelegramMode, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in list(os.environ):
        if name.startswith("QUEN_") or name == "OPENAI_API_KEY":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env file


def test_defaults() -> None:
    settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.telegram_token is None
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.telegram_mode is TelegramMode.POLLING
    assert settings.http_port == 8080
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.default_language == "vi"
    assert settings.owner_telegram_ids == []


def test_environment_and_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUEN_TELEGRAM_TOKEN", "123:abc")
    monkeypatch.setenv("QUEN_OWNER_TELEGRAM_IDS", "5000000001, 42")
    monkeypatch.setenv("QUEN_TELEGRAM_API_URL", "http://127.0.0.1:9/")
    settings = load_settings()
    assert settings.owner_telegram_ids == [5000000001, 42]
    assert settings.telegram_api_url == "http://127.0.0.1:9"
    assert "123:abc" not in repr(settings)


def test_the_model_key_comes_from_either_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().llm().api_key is None  # templates only by default
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-openai-variable")
    assert load_settings().llm().api_key == "sk-from-openai-variable"
    monkeypatch.setenv("QUEN_OPENAI_API_KEY", "sk-from-quen-variable")
    monkeypatch.setenv("QUEN_LLM_BASE_URL", "http://127.0.0.1:11434/v1/")
    settings = load_settings()
    assert settings.llm().api_key == "sk-from-quen-variable"
    assert settings.llm().base_url == "http://127.0.0.1:11434/v1"
    assert "sk-from" not in repr(settings)
    monkeypatch.setenv("QUEN_OPENAI_API_KEY", "")
    assert load_settings().llm().api_key is None


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("QUEN_HTTP_PORT", "eighty", "QUEN_HTTP_PORT"),
        ("QUEN_HTTP_PORT", "70000", "QUEN_HTTP_PORT"),
        ("QUEN_TIMEZONE", "Mars/Olympus", "QUEN_TIMEZONE"),
        ("QUEN_DEFAULT_LANGUAGE", "fr", "QUEN_DEFAULT_LANGUAGE"),
        ("QUEN_DATABASE_URL", "mysql://x", "QUEN_DATABASE_URL"),
        ("QUEN_OWNER_TELEGRAM_IDS", "12,abc", "QUEN_OWNER_TELEGRAM_IDS"),
        ("QUEN_TELEGRAM_MODE", "carrier-pigeon", "QUEN_TELEGRAM_MODE"),
        ("QUEN_WEBHOOK_SECRET", "has spaces!", "QUEN_WEBHOOK_SECRET"),
        ("QUEN_LOGO_PATH", "/nonexistent/logo.png", "QUEN_LOGO_PATH"),
        ("QUEN_LLM_TIMEOUT", "0", "QUEN_LLM_TIMEOUT"),
        ("QUEN_LLM_MAX_RETRIES", "9", "QUEN_LLM_MAX_RETRIES"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, named: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"{named}:")
    assert "\n" not in str(caught.value)


def test_webhook_mode_needs_a_public_url_and_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUEN_TELEGRAM_TOKEN", "123:abc")
    monkeypatch.setenv("QUEN_TELEGRAM_MODE", "webhook")
    with pytest.raises(SettingsError, match=r"^QUEN_PUBLIC_URL:"):
        load_settings()
    monkeypatch.setenv("QUEN_PUBLIC_URL", "https://cafe.example")
    with pytest.raises(SettingsError, match=r"^QUEN_WEBHOOK_SECRET:"):
        load_settings()
    monkeypatch.setenv("QUEN_WEBHOOK_SECRET", "s3cret_value")
    assert load_settings().telegram_mode is TelegramMode.WEBHOOK


def test_cli_stops_with_one_line_on_a_bad_setting(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEN_")}
    env["QUEN_HTTP_PORT"] = "eighty"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "quen: cài đặt không hợp lệ: QUEN_HTTP_PORT: Input should be a valid integer, unable to "
        "parse string as an integer"
    ]


def test_cli_help_lists_the_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    for command in ("run", "migrate", "chat"):
        assert command in result.stdout
