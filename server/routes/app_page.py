"""The shopper's in-app mic page: GET /app and its static files (no build step)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

from orders.errors import VoiceCartError

STATIC = Path(__file__).resolve().parent.parent / "static" / "app"
FILES: dict[str, str] = {
    "app.js": "text/javascript; charset=utf-8",
    "pcm-worklet.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
"""The page's files and their types; nothing else under static/app is served."""
HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
PAGE_HEADERS = {
    **HEADERS,
    # The page talks only to this server: its API, its WebSocket and its event stream.
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self' ws: wss:; media-src 'self' blob:; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Permissions-Policy": "microphone=(self)",
}

router = APIRouter(tags=["app"], include_in_schema=False)


class PageFileNotFound(VoiceCartError):  # noqa: N818 (named like ProductNotFound)
    """A file the page does not have."""

    status_code = 404

    def __init__(self, name: str) -> None:
        super().__init__(f"no such file: /app/{name}")


@router.get("/app")
def app_page() -> FileResponse:
    """The push-to-talk page."""
    return FileResponse(STATIC / "app.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get("/app/")
def app_page_slash() -> RedirectResponse:
    """/app/ is /app."""
    return RedirectResponse("/app", status_code=308)


@router.get("/app/{name}")
def app_file(name: str) -> FileResponse:
    """One of the page's scripts or its stylesheet."""
    media_type = FILES.get(name)
    if media_type is None:
        raise PageFileNotFound(name)
    return FileResponse(STATIC / name, media_type=media_type, headers=HEADERS)
