"""Settings: VOICECART_* variables, the SQLite default, placeholder secrets refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from anyio import to_thread
from fastapi.testclient import TestClient
from pydantic import ValidationError

from server.app import create_app
from server.settings import Settings


def test_environment_variables_with_the_prefix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VOICECART_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VOICECART_PORT", "9001")
    monkeypatch.setenv("VOICECART_WORKERS", "2")
    monkeypatch.delenv("VOICECART_DATABASE_URL", raising=False)
    settings = Settings()
    assert (settings.port, settings.workers) == (9001, 2)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve()}/voicecart.db"


def test_database_url_wins_over_the_data_dir() -> None:
    settings = Settings(
        database_url="postgresql+psycopg://shop@db.internal/shop", data_dir=Path("x")
    )
    assert settings.resolved_database_url == "postgresql+psycopg://shop@db.internal/shop"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("database_url", "postgresql+psycopg://shop:changethis@db/shop"),
        ("redis_url", "redis://:changeme@127.0.0.1:6379/0"),
        ("database_url", "not a url"),
        ("port", "0"),
        ("workers", "0"),
    ],
)
def test_bad_values_are_refused_at_startup(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings.model_validate({field: value})
    assert caught.value.errors()[0]["loc"] == (field,)


def test_real_passwords_are_accepted() -> None:
    assert Settings(database_url="postgresql+psycopg://shop:s3cr3t-v4lue@db/shop").database_url


def test_the_worker_threads_setting_caps_blocking_work(database_url: str, loaded: None) -> None:
    app = create_app(Settings(database_url=database_url, worker_threads=3))
    with TestClient(app) as client:
        assert client.portal is not None
        tokens = client.portal.call(lambda: to_thread.current_default_thread_limiter().total_tokens)
    assert tokens == 3
