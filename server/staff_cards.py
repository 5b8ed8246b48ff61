"""Ticket cards: one template renders a ticket for the page, the live stream and button answers."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from orders.queue import OPEN
from orders.tables import OrderStatus
from server.staff_auth import templates

LABELS = {
    "placed": "New",
    "accepted": "Accepted",
    "in_progress": "Making",
    "ready": "Ready",
    "picked_up": "Picked up",
    "delivered": "Delivered",
    "cancelled": "Cancelled",
    "rejected": "Rejected",
}
ACTION_LABELS = {
    "accept": "Accept",
    "start": "Start",
    "ready": "Ready",
    "picked-up": "Picked up",
    "cancel": "Cancel",
}
NEXT_ACTIONS = {
    "placed": ("accept", "cancel"),
    "accepted": ("start", "cancel"),
    "in_progress": ("ready", "cancel"),
    "ready": ("picked-up",),
}
"""The buttons a ticket shows in each status (the status machine has the final word)."""
_OPEN = {status.value for status in OPEN}


def local_time(iso: str | None, zone: str, fmt: str = "%H:%M") -> str:
    """An ISO timestamp as the store's wall clock ("08:12"), or "asap"."""
    if not iso:
        return "asap"
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(zone)).strftime(fmt)


def card_html(ticket: dict[str, Any], *, csrf: str, zone: str) -> str:
    """The ticket's card."""
    return (
        templates()
        .get_template("staff_card.html")
        .render(
            t=ticket,
            csrf=csrf,
            promised=local_time(ticket.get("promised_at"), zone),
            labels=LABELS,
            actions=NEXT_ACTIONS.get(str(ticket["status"]), ()),
            action_labels=ACTION_LABELS,
        )
    )


def card_payload(
    ticket: dict[str, Any], *, csrf: str, zone: str, notification: str = "", event: str = ""
) -> dict[str, Any]:
    """What the page's script receives for one ticket: the card and whether it stays."""
    return {
        "id": notification,
        "event": event,
        "order_id": ticket["order_id"],
        "status": ticket["status"],
        "updated_at": ticket["updated_at"],
        "open": ticket["status"] in _OPEN,
        "html": card_html(ticket, csrf=csrf, zone=zone),
    }


def sse(event: str, data: dict[str, Any], *, event_id: str = "") -> str:
    """One Server-Sent Event."""
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def is_open(status: OrderStatus | str) -> bool:
    """Whether a ticket in this status stays on the queue."""
    return str(status) in _OPEN
