"""The HTTP API's routers, one module per resource."""

from __future__ import annotations

from typing import Any

from server.schemas import Error

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Error, "description": "No or unknown `Authorization: Bearer` token"},
    404: {"model": Error, "description": "Not found (also another customer's order)"},
    409: {"model": Error, "description": "Refused: conflict with the current state"},
    422: {"model": Error, "description": "Invalid request; `field` names what failed"},
}
"""The error responses every router documents."""
