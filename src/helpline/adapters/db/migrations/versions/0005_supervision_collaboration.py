"""supervision and collaboration: participants, mentions, breaks (issue 8)

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import helpline.adapters.db.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTC = helpline.adapters.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    # Participants: one row per agent and conversation, found by agent for the
    # access rule ("conversations I joined").
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_participants_conversation_id_user_id"), ["conversation_id", "user_id"]
        )
        batch_op.create_index(batch_op.f("ix_participants_user_id"), ["user_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("data", JSON, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("read_at", UTC, nullable=True),
        sa.CheckConstraint("kind IN ('mention')", name=op.f("ck_notifications_kind")),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            name=op.f("fk_notifications_actor_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_notifications_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_notifications_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifications_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(
            "ix_notifications_user_unread", ["user_id", "read_at", "id"], unique=False
        )

    op.create_table(
        "agent_wellbeing",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("pomodoro", sa.Boolean(), nullable=False),
        sa.Column("break_after_minutes", sa.Integer(), nullable=True),
        sa.Column("break_minutes", sa.Integer(), nullable=True),
        sa.Column("snoozed_until", UTC, nullable=True),
        sa.Column("reminded_at", UTC, nullable=True),
        sa.Column("break_ends_at", UTC, nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
        sa.CheckConstraint(
            "break_after_minutes IS NULL OR break_after_minutes BETWEEN 10 AND 480",
            name=op.f("ck_agent_wellbeing_break_after"),
        ),
        sa.CheckConstraint(
            "break_minutes IS NULL OR break_minutes BETWEEN 1 AND 120",
            name=op.f("ck_agent_wellbeing_break_minutes"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_agent_wellbeing_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_agent_wellbeing")),
    )


def downgrade() -> None:
    op.drop_table("agent_wellbeing")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_unread")
        batch_op.drop_index(batch_op.f("ix_notifications_conversation_id"))
    op.drop_table("notifications")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participants_user_id"))
        batch_op.drop_constraint(
            batch_op.f("uq_participants_conversation_id_user_id"), type_="unique"
        )
