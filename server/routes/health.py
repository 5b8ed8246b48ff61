"""Liveness: a trivial JSON endpoint (also the benchmark's framework ceiling)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Always {"status": "ok"} while the process serves; touches no database."""
    return {"status": "ok"}
