"""Suggestion and feedback events.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suggestions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("conversation_id", sa.String(128), nullable=False, index=True),
        sa.Column("customer_id", sa.String(128), nullable=True, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("intent", sa.String(128), nullable=False, index=True),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("out_of_scope", sa.Boolean, nullable=False),
        sa.Column("alternatives", sa.JSON, nullable=False),
        sa.Column("articles", sa.JSON, nullable=False),
        sa.Column("decision", sa.String(32), nullable=False, index=True),
        sa.Column("reason_code", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("frustration_score", sa.Float, nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("index_version", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=True),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "suggestion_id",
            sa.String(64),
            sa.ForeignKey("suggestions.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("conversation_id", sa.String(128), nullable=False, index=True),
        sa.Column("customer_id", sa.String(128), nullable=True, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("feedback", sa.String(16), nullable=False),
        sa.Column("article_id", sa.String(128), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_table("suggestions")
