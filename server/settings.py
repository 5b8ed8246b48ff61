"""Process settings from VOICECART_* environment variables, validated at startup."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from orders.db import sqlite_url

PLACEHOLDERS = frozenset(
    {"changethis", "changeme", "change-me", "placeholder", "secret", "password"}
)
"""Values a secret still has when someone copied an example config and forgot to fill it in."""


class Settings(BaseSettings):
    """Where the data lives and how to serve; every field reads VOICECART_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="VOICECART_", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"), description="folder of the embedded SQLite database"
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db; default SQLite",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for the event bus shared by several processes; unset: in-process bus",
    )
    events_prefix: str = Field(
        default="voicecart", min_length=1, max_length=64, description="Redis pub/sub prefix"
    )
    dispatcher: bool = Field(default=True, description="run the outbox dispatcher here")
    outbox_lease_seconds: float = Field(default=30.0, gt=0, le=3600)
    outbox_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    outbox_gather_seconds: float = Field(
        default=0.03,
        ge=0,
        le=1,
        description="after a dispatcher round that delivered, wait this long for more",
    )
    token_cache_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="how long a process remembers an API token that worked (0: never)",
    )
    cookie_secure: bool = Field(default=False, description="Secure staff cookies (HTTPS only)")
    alexa_client_id: str | None = Field(default=None, description="LWA id for proactive events")
    alexa_client_secret: str | None = None
    alexa_region: str = Field(default="NA", pattern="^(NA|EU|FE)$")
    alexa_development: bool = Field(default=True, description="the development stage endpoint")
    alexa_skill_id: str | None = Field(
        default=None, description="the skill id (amzn1.ask.skill...); unset: no POST /alexa"
    )
    alexa_verify: bool = Field(
        default=True,
        description="check Alexa's signatures and timestamps; false only to replay envelopes",
    )
    alexa_link_client_id: str | None = Field(
        default=None, description="account linking: the client id set in the Alexa console"
    )
    alexa_link_client_secret: str | None = Field(default=None, min_length=16)
    alexa_link_redirect_uris: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="account linking: Amazon's redirect URLs for the skill, comma-separated",
    )
    alexa_link_require_pkce: bool = Field(default=True, description="refuse codes without PKCE")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    db_pool_size: int = Field(default=10, ge=1, le=200, description="connections per worker")
    worker_threads: int = Field(
        default=8,
        ge=1,
        le=200,
        description=(
            "threads per worker for blocking work (database use cases); more threads than"
            " cores only fight over the GIL"
        ),
    )
    catalog_refresh_seconds: float = Field(
        default=1.0, ge=0, le=3600, description="how often a worker checks for a new catalog"
    )

    @field_validator("database_url", "redis_url")
    @classmethod
    def _no_placeholder_password(cls, value: str | None) -> str | None:
        """Refuse URLs whose password was left at an example value."""
        if value is None:
            return None
        try:
            password = make_url(value).password
        except ArgumentError as error:
            raise ValueError(f"not a database URL: {error}") from error
        if password is not None and str(password).lower() in PLACEHOLDERS:
            raise ValueError("the password is still a placeholder value; set a real one")
        return value

    @field_validator("alexa_link_redirect_uris", mode="before")
    @classmethod
    def _redirect_uris(cls, value: object) -> object:
        """Comma- or space-separated URLs from the environment; each must be https."""
        if isinstance(value, str):
            value = [part for part in value.replace(",", " ").split() if part]
        if isinstance(value, list):
            for url in value:
                if not str(url).startswith("https://"):
                    raise ValueError(f"redirect URLs must be https: {url!r}")
        return value

    @field_validator("alexa_client_secret", "alexa_link_client_secret")
    @classmethod
    def _no_placeholder_secret(cls, value: str | None) -> str | None:
        """Refuse an Alexa client secret left at an example value."""
        if value is not None and value.lower() in PLACEHOLDERS:
            raise ValueError("the secret is still a placeholder value; set a real one")
        return value

    @property
    def resolved_database_url(self) -> str:
        """The database URL: the configured one, or the SQLite file in data_dir."""
        return self.database_url or sqlite_url(self.data_dir)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once from the environment."""
    return Settings()
