"""Review queue, reviewer labels, audit trail, shadow predictions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _suggestion_reference() -> sa.ForeignKey:
    return sa.ForeignKey("suggestions.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("suggestion_id", sa.String(64), _suggestion_reference(), nullable=False, unique=True, index=True),
        sa.Column("conversation_id", sa.String(128), nullable=False, index=True),
        sa.Column("customer_id", sa.String(128), nullable=True, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("priority", sa.Float, nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("claimed_by", sa.String(128), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "review_labels",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("suggestion_id", sa.String(64), nullable=False, index=True),
        sa.Column("conversation_id", sa.String(128), nullable=False, index=True),
        sa.Column("customer_id", sa.String(128), nullable=True, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("predicted_intent", sa.String(128), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("intent", sa.String(128), nullable=False, index=True),
        sa.Column("article_id", sa.String(128), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("reviewer", sa.String(128), nullable=False),
        sa.Column("reviewer_key_id", sa.String(32), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("actor", sa.String(128), nullable=False, index=True),
        sa.Column("actor_key_id", sa.String(32), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_table(
        "shadow_predictions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("suggestion_id", sa.String(64), _suggestion_reference(), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("model_version", sa.String(64), nullable=False, index=True),
        sa.Column("intent", sa.String(128), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("out_of_scope", sa.Boolean, nullable=False),
        sa.Column("decision", sa.String(32), nullable=False),
        sa.Column("articles", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("shadow_predictions")
    op.drop_table("audit_log")
    op.drop_table("review_labels")
    op.drop_table("review_items")
