"""The staff page in real Chromium (Debian's, through Playwright) against a real server.

A shopper places a pickup order through the API; the ticket shows on the staff page within a
second of the placing request, with a chime; staff click Accept, Start, Ready; the shopper's
event stream, read by fetch in a browser page exactly as /app will read it, shows "Your ... is
ready at Main St".
The queue survives a reload; a manager's pause shows on the barista's screen live.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from orders.clock import utc_now
from server.app import create_app
from server.settings import Settings
from tests.orders.factories import FakeClock
from tests.server.staff_fixtures import Shop, add_latte, make_shop, place_latte, place_pickup
from tests.server.staff_support import PASSWORD, thread_server

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason=f"{CHROMIUM} is not installed"),
]

# Read the shopper's stream the way /app will: fetch with the bearer token, parse SSE by hand.
LISTEN = """async (token) => {
  window.notes = [];
  const response = await fetch('/v1/events', {headers: {Authorization: 'Bearer ' + token}});
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  (async () => {
    for (;;) {
      const {value, done} = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\\n\\n')) >= 0) {
        const block = buffer.slice(0, end); buffer = buffer.slice(end + 2);
        const data = block.split('\\n').find((line) => line.startsWith('data: '));
        if (data) window.notes.push(JSON.parse(data.slice(6)));
      }
    }
  })();
  return response.status;
}"""


@pytest.fixture
def shop(session: Session, clock: FakeClock) -> Shop:
    """The shop in the test database."""
    return make_shop(session, clock)


@pytest.fixture
def served(database_url: str, shop: Shop) -> Iterator[str]:
    """The app (real clock) behind uvicorn in a thread."""
    with thread_server(create_app(Settings(database_url=database_url), clock=utc_now)) as base:
        yield base


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless; never a downloaded browser."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def log_in(browser: Any, base: str, email: str) -> Any:
    """A staff page, logged in through the real form, connected to the live stream."""
    page = browser.new_context().new_page()
    page.goto(f"{base}/staff")
    assert page.url.endswith("/staff/login")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_selector('#connection[data-state="live"]', timeout=10_000)
    return page


def test_pickup_order_to_ready_through_the_staff_page(
    browser: Any, served: str, shop: Shop, tmp_path: Path
) -> None:
    staff = log_in(browser, served, shop.barista)
    shopper = browser.new_context().new_page()
    shopper.goto(f"{served}/v1/health")  # same origin as /v1/events
    assert shopper.evaluate(LISTEN, shop.ada.token) == 200
    with httpx.Client(timeout=10) as client:
        add_latte(client, shop.ada, base=served)
        placing = time.monotonic()
        order = place_pickup(client, shop.ada, key="browser", base=served)
        card = f"#order-{order['id']}"
        staff.wait_for_selector(card, timeout=5_000)
        shown = time.monotonic() - placing
    assert shown < 1.0, f"the ticket showed {shown:.2f} s after the shopper placed the order"
    text = staff.inner_text(card)
    assert "Ada" in text
    assert "Large" in text
    assert "Oat Milk" in text
    assert "(extra)" in text
    assert staff.evaluate("window.voicecart.chimes") == 1
    for action, badge in (("accept", "Accepted"), ("start", "Making"), ("ready", "Ready")):
        staff.click(f'{card} button[data-action="{action}"]')
        staff.wait_for_function(
            "([card, badge]) => document.querySelector(card + ' .badge').textContent === badge",
            arg=[card, badge],
            timeout=5_000,
        )
    shopper.wait_for_function(
        "() => window.notes.some((n) => n.event === 'order.ready')", timeout=5_000
    )
    notes = shopper.evaluate("window.notes")
    ready = next(note for note in notes if note["event"] == "order.ready")
    assert ready["text"] == "Your large oat milk latte is ready at Main St"
    assert len({note["id"] for note in notes}) == len(notes) == 4
    staff.screenshot(path=str(tmp_path / "staff.png"), full_page=True)
    staff.reload()  # the database is the truth
    staff.wait_for_selector(f'{card}[data-status="ready"]', timeout=5_000)
    staff.click(f'{card} button[data-action="picked-up"]')
    staff.wait_for_selector(card, state="detached", timeout=5_000)
    assert staff.is_visible("#empty")


def test_print_view_and_the_managers_pause(browser: Any, served: str, shop: Shop) -> None:
    barista = log_in(browser, served, shop.barista)
    with httpx.Client(timeout=10) as client:
        order = place_latte(client, shop.ada, key="print", base=served)
    barista.wait_for_selector(f"#order-{order['id']}", timeout=5_000)
    with barista.expect_popup() as popup:
        barista.click(f"#order-{order['id']} a.print")
    printed = popup.value
    printed.wait_for_load_state()
    assert f"#{order['id']} Ada" in printed.inner_text("body")
    assert barista.is_hidden("#paused")
    assert barista.query_selector("#switches") is None
    manager = log_in(browser, served, shop.manager)
    manager.check('#switches input[name="pickup_paused"]')
    manager.fill('#switches input[name="extra_prep_minutes"]', "10")
    manager.click("#switches button")
    barista.wait_for_selector("#paused", state="visible", timeout=5_000)
    assert barista.inner_text("#extra") == "10"
