"""AI assist: classifications, corrections, bot (issue 7)

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import helpline.adapters.db.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTC_DATETIME = helpline.adapters.db.base.UTCDateTime(timezone=True)

CONVERSATION_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("ai_category", sa.String(length=40)),
    ("ai_category_confidence", sa.Double()),
    ("ai_category_source", sa.String(length=16)),
    ("ai_urgent_reasons", JSON),
    ("ai_language", sa.String(length=16)),
    ("frustration", sa.Double()),
    ("frustration_reasons", JSON),
    ("tone_register", sa.String(length=16)),
    ("ai_text_hash", sa.String(length=32)),
)


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        for name, column_type in CONVERSATION_COLUMNS:
            batch.add_column(sa.Column(name, column_type, nullable=True))
        batch.add_column(
            sa.Column("bot_active", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(
            sa.Column("bot_unhelpful", sa.Integer(), server_default="0", nullable=False)
        )
    op.create_table(
        "ai_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("predicted_category", sa.String(length=40), nullable=True),
        sa.Column("corrected_category", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("trained_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_ai_corrections_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_ai_corrections_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_corrections")),
    )
    op.create_index(
        op.f("ix_ai_corrections_conversation_id"), "ai_corrections", ["conversation_id"]
    )
    op.create_index("ix_ai_corrections_trained_at", "ai_corrections", ["trained_at"])


def downgrade() -> None:
    op.drop_index("ix_ai_corrections_trained_at", table_name="ai_corrections")
    op.drop_index(op.f("ix_ai_corrections_conversation_id"), table_name="ai_corrections")
    op.drop_table("ai_corrections")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("bot_unhelpful")
        batch.drop_column("bot_active")
        for name, _ in reversed(CONVERSATION_COLUMNS):
            batch.drop_column(name)
