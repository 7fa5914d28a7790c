"""routing: the assignee index carries the channel on PostgreSQL

Routing counts every candidate agent's open chats and email tickets for each new
chat; with the channel in `ix_conversations_assignee_status` those counts are
index-only scans instead of one table read per open conversation. SQLite has no
INCLUDE columns and keeps the index as it was.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_conversations_assignee_status"
COLUMNS = ["assignee_id", "status", "last_activity_at"]


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgres():
        return
    op.drop_index(INDEX, table_name="conversations")
    op.create_index(INDEX, "conversations", COLUMNS, postgresql_include=["channel"])


def downgrade() -> None:
    if not _postgres():
        return
    op.drop_index(INDEX, table_name="conversations")
    op.create_index(INDEX, "conversations", COLUMNS)
