"""Who is calling: the customer of an API token, remembered briefly per process.

Every shopper request carries `Authorization: Bearer <token>`. Looking the token up costs a
thread hop and a transaction of its own on every request (a pickup order is two requests),
so a process remembers the tokens that worked for `ttl` seconds. Only hits are kept: a new
token works at once, an unknown one is looked up every time. A token deleted from the
database keeps working in a process for at most `ttl` seconds (VOICECART_TOKEN_CACHE_SECONDS;
0 looks every token up on every request).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from orders.customers import customer_for_token, hash_token
from orders.db import end_read


@dataclass(frozen=True)
class Caller:
    """The authenticated customer of a request."""

    id: int
    name: str


def caller_for_token(sessions: sessionmaker[Session], token: str) -> Caller | None:
    """The customer a token belongs to, read in a short session of its own."""
    with sessions() as db:
        customer = customer_for_token(db, token)
        end_read(db)
        return Caller(customer.id, customer.name) if customer is not None else None


class Callers:
    """Tokens that worked, by hash, for `ttl` seconds; at most `size` of them (LRU)."""

    def __init__(
        self,
        *,
        ttl: float = 30.0,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._known: OrderedDict[str, tuple[float, Caller]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> Caller | None:
        """The caller of a token seen less than `ttl` seconds ago, or None."""
        if self._ttl <= 0:
            return None
        key = hash_token(token)
        with self._lock:
            entry = self._known.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._known[key]
                return None
            self._known.move_to_end(key)
            return entry[1]

    def put(self, token: str, caller: Caller) -> None:
        """Remember a token that worked."""
        if self._ttl <= 0:
            return
        key = hash_token(token)
        with self._lock:
            self._known[key] = (self._clock() + self._ttl, caller)
            self._known.move_to_end(key)
            while len(self._known) > self._size:
                self._known.popitem(last=False)
