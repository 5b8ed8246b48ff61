"""Special requests: a free-text note on cart lines and order lines.

Revision ID: notes01
Revises: oauth01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "notes01"
down_revision = "oauth01"
branch_labels = None
depends_on = None

NOTE_LENGTH = 140
"""orders.tables.NOTE_LENGTH when this revision was written (a migration never imports it)."""


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("cart_lines", sa.Column("note", sa.String(length=NOTE_LENGTH), nullable=True))
    op.add_column("order_lines", sa.Column("note", sa.String(length=NOTE_LENGTH), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("order_lines") as batch:
        batch.drop_column("note")
    with op.batch_alter_table("cart_lines") as batch:
        batch.drop_column("note")
