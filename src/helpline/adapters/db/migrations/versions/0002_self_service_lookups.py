"""self-service lookups and help-center admin (issue 6)

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import helpline.adapters.db.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTC_DATETIME = helpline.adapters.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "self_service_lookups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inbox_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("label", JSON, nullable=False),
        sa.Column("input_label", JSON, nullable=True),
        sa.Column("url_template", sa.String(length=2000), nullable=False),
        sa.Column("allowed_hosts", JSON, nullable=False),
        sa.Column("timeout_seconds", sa.Double(), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_id"],
            ["inboxes.id"],
            name=op.f("fk_self_service_lookups_inbox_id_inboxes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_service_lookups")),
        sa.UniqueConstraint("inbox_id", "key", name=op.f("uq_self_service_lookups_inbox_id_key")),
    )
    op.create_table(
        "article_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_categories")),
        sa.UniqueConstraint("slug", name=op.f("uq_article_categories_slug")),
    )


def downgrade() -> None:
    op.drop_table("article_categories")
    op.drop_table("self_service_lookups")
