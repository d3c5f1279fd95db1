"""Typed settings, built once from the environment and `.env` (see .env.example)."""

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from briefings.languages import Lang

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    telegram_bot_token: SecretStr | None = Field(None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_api_url: str = Field("https://api.telegram.org", validation_alias="TELEGRAM_API_URL")
    telegram_webhook_url: str | None = Field(None, validation_alias="TELEGRAM_WEBHOOK_URL")
    # Telegram allows about 30 messages a second in all; staying under it avoids 429 waits.
    telegram_send_rate: float = Field(25, gt=0, validation_alias="TELEGRAM_SEND_RATE")
    # Each chat's pace is Telegram's (1 a second a chat, 20 a minute a group) times this.
    telegram_pacing_scale: float = Field(1, ge=0, validation_alias="TELEGRAM_PACING_SCALE")
    telegram_webhook_secret: SecretStr | None = Field(
        None, validation_alias="TELEGRAM_WEBHOOK_SECRET"
    )
    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    # Workspaces (team ids) allowed to use the Slack app; empty allows every workspace.
    slack_teams: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="BRIEFINGS_SLACK_TEAMS"
    )
    database_url: str = Field(
        f"sqlite:///{PROJECT_ROOT / 'var' / 'briefings.sqlite3'}",
        validation_alias="BRIEFINGS_DATABASE_URL",
    )
    seeds_dir: Path = Field(PROJECT_ROOT / "seeds", validation_alias="BRIEFINGS_SEEDS_DIR")
    # The validated seeds, kept between runs (briefings/seed_cache.py); rebuilt when one changes.
    cache_dir: Path = Field(PROJECT_ROOT / "var" / "cache", validation_alias="BRIEFINGS_CACHE_DIR")
    default_lang: Lang = Field("en", validation_alias="BRIEFINGS_DEFAULT_LANG")
    http_host: str = Field("127.0.0.1", validation_alias="BRIEFINGS_HTTP_HOST")
    http_port: int = Field(8080, ge=0, le=65535, validation_alias="BRIEFINGS_HTTP_PORT")
    digest_grace_minutes: float = Field(
        120, ge=0, validation_alias="BRIEFINGS_DIGEST_GRACE_MINUTES"
    )
    digest_tick_seconds: float = Field(10, gt=0, validation_alias="BRIEFINGS_DIGEST_TICK_SECONDS")
    # Where people reach the HTTP server from outside (https://briefings.example.org): when
    # set, it serves the briefing book and calendar feed behind signed, expiring links.
    public_url: str | None = Field(None, validation_alias="BRIEFINGS_PUBLIC_URL")
    # Signs those links (HMAC-SHA256). Unset: one is made at each start, and links die with
    # the process.
    link_secret: SecretStr | None = Field(None, validation_alias="BRIEFINGS_LINK_SECRET")
    link_days: float = Field(30, gt=0, validation_alias="BRIEFINGS_LINK_DAYS")

    @field_validator("public_url", "link_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `.env.example` lists every variable with an empty value: empty means unset.
        return None if value == "" else value

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _empty_is_default(cls, value: object) -> object:
        # Empty in `.env` (as `.env.example` lists it) keeps the default, not the current directory.
        return PROJECT_ROOT / "var" / "cache" if value == "" else value

    @field_validator("slack_teams", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        # A comma-separated list reads better in .env than the JSON pydantic expects.
        if isinstance(value, str):
            return [team.strip() for team in value.split(",") if team.strip()]
        return value

    @property
    def telegram_configured(self) -> bool:
        return self.telegram_bot_token is not None

    @property
    def slack_configured(self) -> bool:
        return self.slack_bot_token is not None and (
            self.slack_app_token is not None or self.slack_signing_secret is not None
        )
