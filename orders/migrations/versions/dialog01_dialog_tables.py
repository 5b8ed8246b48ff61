"""The dialogue's tables: conversation sessions, unmatched phrases, voice PIN settings.

Revision ID: dialog01
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "dialog01"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "dialog_sessions",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_dialog_sessions_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialog_sessions")),
    )
    op.create_index(
        "ix_dialog_sessions_updated_at", "dialog_sessions", ["updated_at"], unique=False
    )
    op.create_table(
        "unmatched_phrases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phrase", sa.String(length=500), nullable=False),
        sa.Column("utterance", sa.Text(), nullable=False),
        sa.Column("suggestion", sa.String(length=64), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("store_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_unmatched_phrases_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unmatched_phrases")),
    )
    op.create_index(
        "ix_unmatched_phrases_store_id_at", "unmatched_phrases", ["store_id", "at"], unique=False
    )
    op.create_table(
        "voice_settings",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("pin_hash", sa.String(length=255), nullable=True),
        sa.Column("pin_above", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_voice_settings_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_voice_settings")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("voice_settings")
    op.drop_index("ix_unmatched_phrases_store_id_at", table_name="unmatched_phrases")
    op.drop_table("unmatched_phrases")
    op.drop_index("ix_dialog_sessions_updated_at", table_name="dialog_sessions")
    op.drop_table("dialog_sessions")
