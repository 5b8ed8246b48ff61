"""Alembic migrations of the order database (shipped as package data)."""
