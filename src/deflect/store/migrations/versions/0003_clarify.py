"""Clarifying questions: the question a suggestion asked, and the question a customer's choice answered.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("suggestions", sa.Column("clarification", sa.JSON, nullable=True))
    op.add_column("suggestions", sa.Column("chosen_from", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("suggestions", "chosen_from")
    op.drop_column("suggestions", "clarification")
