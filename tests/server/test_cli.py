"""The CLI commands of the order service: db, customers, catalog load, serve, demo."""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from catalog.demo import DEMO_CATALOGS
from orders.catalog_store import read_catalog
from orders.customers import customer_for_token
from orders.db import make_engine, make_sessions
from server.__main__ import main
from server.cli.catalog_load import add_load_command
from tests.conftest import REPO

TOKEN = re.compile(r"vc_[A-Za-z0-9_-]{40,}")


def test_db_upgrade_then_status(empty_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "status", "--database-url", empty_url]) == 1
    assert "voicecart db upgrade" in capsys.readouterr().out
    assert main(["db", "upgrade", "--database-url", empty_url]) == 0
    assert "empty ->" in capsys.readouterr().out
    assert main(["db", "status", "--database-url", empty_url]) == 0
    assert main(["db", "upgrade", "--database-url", empty_url]) == 0


def test_commands_refuse_an_unmigrated_database(
    empty_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["customers", "add", "Ada", "--database-url", empty_url]) == 1
    assert main(["serve", "--database-url", empty_url, "--port", "1"]) == 1
    errors = capsys.readouterr().err
    assert errors.count("run `voicecart db upgrade") == 2


def test_catalog_load_then_customers(
    database_url: str, session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    add_load_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["load", str(DEMO_CATALOGS["coffee"]), "--database-url", database_url])
    assert args.func(args) == 0
    assert "catalog version 1" in capsys.readouterr().out
    found = read_catalog(session)
    assert found is not None
    assert "latte" in found[1].products
    assert (
        main(
            [
                "customers",
                "add",
                "Ada",
                "--store",
                "cafe-main-street",
                "--database-url",
                database_url,
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    token = TOKEN.search(out)
    assert token is not None
    session.rollback()  # end the read snapshot: the CLI wrote from another connection
    customer = customer_for_token(session, token.group())
    assert customer is not None
    assert customer.home_store_id == "cafe-main-street"
    assert main(["customers", "list", "--database-url", database_url]) == 0
    assert "Ada\tcafe-main-street" in capsys.readouterr().out
    assert main(["customers", "token", str(customer.id), "--database-url", database_url]) == 0
    second = TOKEN.search(capsys.readouterr().out)
    assert second is not None
    assert second.group() != token.group()
    assert (
        main(["customers", "add", "Eve", "--store", "nowhere", "--database-url", database_url]) == 1
    )
    assert "no store with id 'nowhere'" in capsys.readouterr().err


def test_demo_sets_up_once_and_reissues_tokens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--data-dir", str(tmp_path), "--no-serve"]) == 0
    first = TOKEN.findall(capsys.readouterr().out)
    assert main(["demo", "--data-dir", str(tmp_path), "--no-serve"]) == 0
    second = TOKEN.findall(capsys.readouterr().out)
    assert len(first) == len(second) == 2
    assert not set(first) & set(second)
    engine = make_engine(f"sqlite:///{tmp_path / 'voicecart.db'}")
    with make_sessions(engine)() as session:
        for tokens in (first, second):
            found = [customer_for_token(session, token) for token in tokens]
            assert [c.name if c else None for c in found] == ["Ada (demo)", "Sam (demo)"]
    engine.dispose()


def _start_demo(folder: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    """Run `python -m server demo` on a fresh folder; return the process and the two tokens."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICECART_")}
    command = [
        sys.executable,
        "-m",
        "server",
        "demo",
        "--data-dir",
        str(folder),
        "--port",
        str(port),
    ]
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    printed = ""
    while len(TOKEN.findall(printed)) < 2:
        line = process.stdout.readline()
        assert line, printed
        printed += line
    return process, TOKEN.findall(printed)


def _wait_until_up(base: str) -> None:
    """Poll /health until the server answers (30 s at most)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{base}/health").raise_for_status()
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the demo server did not come up"
            time.sleep(0.2)


def test_demo_end_to_end_serves_what_the_docs_say(tmp_path: Path) -> None:
    """`voicecart demo` on a fresh folder: tokens printed, then a running server to curl."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process, (ada, sam) = _start_demo(tmp_path / "demo", port)
    try:
        base = f"http://127.0.0.1:{port}/v1"
        _wait_until_up(base)
        with httpx.Client(base_url=base) as client:
            assert len(client.get("/stores").json()) == 4
            as_ada = {"Authorization": f"Bearer {ada}"}
            history = client.get("/orders", headers=as_ada).json()
            assert len(history) == 4
            assert {o["status"] for o in history} == {"picked_up"}
            usual = client.post("/reorder", json={"target": "usual"}, headers=as_ada)
            assert usual.status_code == 200
            lines = usual.json()["cart"]["lines"]
            assert [x["product_id"] for x in lines] == ["latte", "butter-croissant"]
            towels = client.post(
                "/reorder",
                json={"target": "product", "query": "paper towels"},
                headers={"Authorization": f"Bearer {sam}"},
            )
            assert towels.json()["cart"]["lines"][0]["product_id"] == "paper-towels-bounty"
            assert client.get("/cart").status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
