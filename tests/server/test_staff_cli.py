"""`voicecart staff ...` as a real process on a real database."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy.orm import Session

from orders.errors import LoginFailed
from orders.staff import log_in
from orders.staff_tables import StaffRole
from tests.orders.factories import FakeClock
from tests.server.staff_support import PASSWORD, REPO


def voicecart(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run the CLI."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("VOICECART_STAFF_PASSWORD", None)
    return subprocess.run(
        [sys.executable, "-m", "server", *args, "--database-url", database_url],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
        check=False,
    )


def test_staff_add_list_remove_and_webhooks(
    database_url: str, session: Session, loaded: None, clock: FakeClock
) -> None:
    added = voicecart(
        database_url,
        "staff",
        "add",
        "--store",
        "cafe",
        "--role",
        "barista",
        "Ann@Example.com",
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "ann@example.com: barista at cafe (new account)"
    more = voicecart(
        database_url, "staff", "add", "--store", "market", "--role", "manager", "ann@example.com"
    )
    assert more.stdout.strip() == "ann@example.com: manager at market"
    _, who = log_in(session, "ann@example.com", PASSWORD, clock=clock)
    assert who.roles == {"cafe": StaffRole.BARISTA, "market": StaffRole.MANAGER}
    listed = voicecart(database_url, "staff", "list", "--store", "cafe")
    assert listed.stdout == "ann@example.com\tann\tbarista at cafe, manager at market\n"
    bad = voicecart(
        database_url,
        "staff",
        "add",
        "--store",
        "nowhere",
        "--role",
        "barista",
        "x@y.z",
        stdin=PASSWORD + "\n",
    )
    assert bad.returncode == 1
    assert "no store with id 'nowhere'" in bad.stderr
    short = voicecart(
        database_url,
        "staff",
        "add",
        "--store",
        "cafe",
        "--role",
        "barista",
        "b@y.z",
        stdin="short\n",
    )
    assert short.returncode == 1
    assert "password" in short.stderr
    hook = voicecart(
        database_url,
        "staff",
        "webhook",
        "add",
        "http://127.0.0.1:9/sms",
        "--store",
        "cafe",
        "--event",
        "order.ready",
    )
    assert hook.returncode == 0
    assert "secret: " in hook.stdout
    hooks = voicecart(database_url, "staff", "webhook", "list").stdout
    assert "\ton\tcafe\torder.ready\thttp://127.0.0.1:9/sms" in hooks
    assert voicecart(database_url, "staff", "remove", "ann@example.com").returncode == 0
    session.rollback()  # end the read snapshot taken before the CLI wrote
    with pytest.raises(LoginFailed):
        log_in(session, "ann@example.com", PASSWORD, clock=clock)
