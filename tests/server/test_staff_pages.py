"""The staff pages over HTTP: login, the queue, the buttons, print view, switches, out of stock."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from tests.orders.factories import FakeClock
from tests.server.staff_fixtures import Shop, login, place_latte, shop, staff_app, web
from tests.server.staff_support import _CSRF, PASSWORD

CAFE_ZONE = "America/Vancouver"
"""The café's time zone in tests.orders.factories: the cards show its local times."""

__all__ = ["shop", "staff_app", "web"]


def test_login_needs_the_form_token_and_the_right_password(web: TestClient, shop: Shop) -> None:
    assert web.get("/staff").headers["location"] == "/staff/login"
    form = web.get("/staff/login")
    assert form.status_code == 200
    token = _CSRF.search(form.text)
    assert token is not None
    fields = {"email": shop.barista, "password": PASSWORD, "csrf_token": "forged"}
    forged = web.post("/staff/login", data=fields)
    assert forged.status_code == 403
    token = _CSRF.search(forged.text)  # every form answer carries a fresh token
    assert token is not None
    fields["csrf_token"] = token.group(1)
    wrong = web.post("/staff/login", data={**fields, "password": "not the password"})
    assert wrong.status_code == 401
    assert "wrong email or password" in wrong.text
    token = _CSRF.search(wrong.text)
    assert token is not None
    ok = web.post("/staff/login", data={**fields, "csrf_token": token.group(1)})
    assert ok.status_code == 303
    assert ok.headers["location"] == "/staff"
    cookie = ok.headers["set-cookie"]
    assert "vc_staff=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie
    page = web.get("/staff")
    assert page.status_code == 200
    assert "Main St" in page.text


def test_cookies_are_secure_when_configured(
    database_url: str, clock: FakeClock, shop: Shop
) -> None:
    app = create_app(Settings(database_url=database_url, cookie_secure=True), clock=clock)
    with TestClient(app, follow_redirects=False) as client:
        form = client.get("/staff/login")
        assert "Secure" in form.headers["set-cookie"]


def test_the_queue_shows_everything_a_barista_needs(web: TestClient, shop: Shop) -> None:
    order = place_latte(web, shop.ada, key="o1")
    login(web, shop.barista)
    page = web.get("/staff").text
    assert f'id="order-{order["id"]}"' in page
    assert "Ada" in page
    assert "Lovelace" not in page  # first name only
    assert "Latte" in page
    assert "Size: <b>Large</b>" in page
    assert "Milk: <b>Oat Milk</b>" in page
    assert "(extra)" in page
    assert "Promised <strong>08:" in page  # the store's local time (Vancouver)
    assert 'data-action="accept"' in page
    assert 'data-action="start"' not in page
    queue = web.get("/staff/queue").json()
    assert [t["order_id"] for t in queue["tickets"]] == [order["id"]]
    assert queue["tickets"][0]["total"] == order["total"]
    assert queue["switches"] == {
        "store_id": "cafe",
        "pickup_paused": False,
        "extra_prep_minutes": 0,
    }


def test_buttons_need_the_csrf_token_and_follow_the_status_machine(
    web: TestClient, shop: Shop
) -> None:
    order = place_latte(web, shop.ada, key="o1")
    csrf = login(web, shop.barista)
    url = f"/staff/orders/{order['id']}"
    assert web.post(f"{url}/accept").status_code == 403
    assert web.post(f"{url}/accept", headers={"X-CSRF-Token": "nope"}).status_code == 403
    headers = {"X-CSRF-Token": csrf, "Accept": "application/json"}
    accepted = web.post(f"{url}/accept", headers=headers)
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["open"]
    assert 'data-action="start"' in accepted.json()["html"]
    promised = datetime.fromisoformat(order["promised_at"]).astimezone(ZoneInfo(CAFE_ZONE))
    assert f"Promised <strong>{promised:%H:%M}</strong>" in accepted.json()["html"]
    assert web.post(f"{url}/ready", headers=headers).json()["error"] == "IllegalTransition"
    started = web.post(f"{url}/start", data={"csrf_token": csrf})
    assert started.status_code == 303  # a plain form goes back to the queue
    assert web.post(f"{url}/ready", headers=headers).json()["status"] == "ready"
    done = web.post(f"{url}/picked-up", headers=headers).json()
    assert done["status"] == "picked_up"
    assert not done["open"]
    assert web.get("/staff/queue").json()["tickets"] == []
    mine = web.get(f"/v1/orders/{order['id']}", headers=shop.ada.auth).json()
    assert [e["to_status"] for e in mine["events"]] == [
        "placed",
        "accepted",
        "in_progress",
        "ready",
        "picked_up",
    ]
    assert mine["events"][-1]["actor_id"] == shop.barista


def test_printable_ticket(web: TestClient, shop: Shop) -> None:
    order = place_latte(web, shop.ada, key="o1")
    login(web, shop.barista)
    ticket = web.get(f"/staff/orders/{order['id']}/ticket")
    assert ticket.status_code == 200
    assert f"#{order['id']} Ada" in ticket.text
    assert "Milk: Oat Milk (extra)" in ticket.text
    assert "@media print" in ticket.text


def test_a_special_request_reaches_the_card_and_the_printed_ticket_escaped(
    web: TestClient, shop: Shop
) -> None:
    note = "<b>no lid</b> & extra hot"
    too_long = {"product_id": "latte", "note": "x" * 141}
    refused = web.post("/v1/cart/items", json=too_long, headers=shop.ada.auth)
    assert (refused.status_code, refused.json()["field"]) == (422, "note")
    item = {"product_id": "latte", "options": {"size": "small"}, "note": note}
    cart = web.post("/v1/cart/items", json=item, headers=shop.ada.auth).json()
    assert [line["note"] for line in cart["lines"]] == [note]
    placed = web.post(
        "/v1/pickup/orders",
        json={"confirm": True, "store_id": "cafe"},
        headers={**shop.ada.auth, "Idempotency-Key": "o1"},
    ).json()
    assert [line["note"] for line in placed["lines"]] == [note]
    login(web, shop.barista)
    shown = "Request: <b>&lt;b&gt;no lid&lt;/b&gt; &amp; extra hot</b>"
    assert shown in web.get("/staff").text
    assert shown in web.get(f"/staff/orders/{placed['id']}/ticket").text
    queue = web.get("/staff/queue").json()
    assert queue["tickets"][0]["lines"][0]["note"] == note


def test_manager_pauses_pickup_and_adds_prep_time(
    web: TestClient, shop: Shop, clock: FakeClock
) -> None:
    csrf = login(web, shop.barista)
    url = "/staff/stores/cafe/switches"
    denied = web.post(url, data={"csrf_token": csrf, "pickup_paused": "true"})
    assert denied.status_code == 403
    assert denied.json()["error"] == "NotPermitted"
    csrf = login(web, shop.manager)
    headers = {"X-CSRF-Token": csrf, "Accept": "application/json"}
    paused = web.post(url, data={"pickup_paused": "true"}, headers=headers)
    assert paused.json() == {"store_id": "cafe", "pickup_paused": True, "extra_prep_minutes": 0}
    web.post("/v1/cart/items", json={"product_id": "croissant"}, headers=shop.ada.auth)
    refused = web.post(
        "/v1/pickup/orders",
        json={"confirm": True, "store_id": "cafe"},
        headers={**shop.ada.auth, "Idempotency-Key": "p"},
    )
    assert refused.status_code == 409
    assert refused.json() == {
        "error": "PickupPaused",
        "detail": "Main St is not taking pickup orders right now",
    }
    assert "Pickup orders are paused" in web.get("/staff").text
    web.post(url, data={"extra_prep_minutes": "20"}, headers=headers)
    estimate = web.get("/v1/pickup/estimate", params={"store_id": "cafe"}, headers=shop.ada.auth)
    assert estimate.json()["ready_at"].startswith(
        (clock.now + timedelta(minutes=1 + 20)).isoformat()[:16]
    )
    assert web.post(url, data={"extra_prep_minutes": "999"}, headers=headers).status_code == 422


def test_out_of_stock_offers_substitutes_the_shopper_answers(web: TestClient, shop: Shop) -> None:
    web.post(
        "/v1/cart/items", json={"product_id": "croissant", "quantity": 2}, headers=shop.ada.auth
    )
    order = web.post(
        "/v1/pickup/orders",
        json={"confirm": True, "store_id": "cafe"},
        headers={**shop.ada.auth, "Idempotency-Key": "c"},
    ).json()
    csrf = login(web, shop.barista)
    line_id = web.get("/staff/queue").json()["tickets"][0]["lines"][0]["id"]
    base = f"/staff/orders/{order['id']}/lines/{line_id}"
    assert web.get(f"{base}/substitutes").json() == [
        {"product_id": "muffin", "name": "Blueberry Muffin", "price": 350}
    ]
    headers = {"X-CSRF-Token": csrf, "Accept": "application/json"}
    offered = web.post(f"{base}/out-of-stock", data={"product_id": ["muffin"]}, headers=headers)
    assert offered.status_code == 200
    assert "waiting for the shopper" in offered.json()["html"]
    offer = web.get(f"/v1/orders/{order['id']}/substitution", headers=shop.ada.auth).json()
    assert offer["offered"][0]["name"] == "Blueberry Muffin"
    accepted = web.post(
        f"/v1/orders/{order['id']}/substitution/accept", json={}, headers=shop.ada.auth
    )
    assert accepted.status_code == 200
    assert [line["name"] for line in accepted.json()["lines"]] == ["Blueberry Muffin"]
    gone = web.get(f"/v1/orders/{order['id']}/substitution", headers=shop.ada.auth)
    assert gone.status_code == 404


def test_logout_needs_the_token_and_ends_the_session(web: TestClient, shop: Shop) -> None:
    csrf = login(web, shop.barista)
    assert web.post("/staff/logout").status_code == 403
    token = web.cookies.get("vc_staff")
    assert token
    out = web.post("/staff/logout", data={"csrf_token": csrf})
    assert out.status_code == 303
    assert out.headers["location"] == "/staff/login"
    web.cookies.clear()
    web.cookies.set("vc_staff", token)  # the old cookie, replayed: the session is gone
    assert web.get("/staff/queue").status_code == 401
