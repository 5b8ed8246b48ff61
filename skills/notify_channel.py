"""The Alexa notification channel: orders/notify.py's Channel protocol on Proactive Events.

The outbox routes an order's "ready" event to the channel "alexa", with one delivery per Alexa
user id linked to the customer (orders/outbox.py `route`; the link is made by account linking,
skills/interceptors.py). `AlexaChannel.deliver` sends AMAZON.OrderStatus.Updated to that user
with the notification id as the reference id, so a retried delivery is recognised by Amazon
(409 -> delivered). Outcomes map onto the dispatcher's: sent or already sent -> delivered;
429, 5xx and network errors -> retry (after Amazon's Retry-After when it gives one); 403 (the
shopper did not allow notifications), 401 (our LWA credentials) and other 4xx -> failed.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from orders.notify import Outcome, Outgoing
from orders.outbox import ALEXA
from skills.proactive import PICKUP_READY_STATUS, OrderStatus, ProactiveError, ProactiveEvents

logger = logging.getLogger(__name__)

EVENT_STATUS: dict[str, OrderStatus] = {
    "order.placed": OrderStatus.ORDER_RECEIVED,
    "order.accepted": OrderStatus.ORDER_RECEIVED,
    "order.in_progress": OrderStatus.ORDER_PREPARING,
    "order.ready": PICKUP_READY_STATUS,
}
"""Our order events as Amazon's order states (the outbox sends only "ready" to Alexa today)."""


class AlexaChannel:
    """Delivers order notifications to a linked shopper's Echo."""

    name = ALEXA

    def __init__(
        self,
        events: ProactiveEvents,
        *,
        ttl: timedelta = timedelta(hours=2),
        locale: str = "en-US",
    ) -> None:
        self._events = events
        self._ttl = ttl
        self._locale = locale

    def deliver(self, item: Outgoing) -> Outcome:
        """Send one event to the Alexa user in `item.target`; never raises for a failed send."""
        status = EVENT_STATUS.get(item.message.event)
        if status is None:
            return Outcome.failed(f"no Alexa order state for event {item.message.event}")
        try:
            result = self._events.send_order_ready(
                user_id=item.target,
                reference_id=item.message.id,
                store_name=item.message.store_name,
                ttl=self._ttl,
                status=status,
                locale=self._locale,
            )
        except ProactiveError as error:
            return Outcome.failed(error.detail)
        if result.delivered:
            return Outcome.delivered()
        detail = f"{result.outcome}: HTTP {result.status_code} {result.detail}".strip()
        if result.retryable:
            return Outcome.retry(detail, after=result.retry_after)
        logger.warning("Alexa notification %s not delivered: %s", item.message.id, detail)
        return Outcome.failed(detail)
