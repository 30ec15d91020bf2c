"""producer versions: the version a pull request gives each contract, and the one it showed

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pull_request_versions",
        sa.Column("contract_id", sa.String(length=200), nullable=False),
        sa.Column("repo", sa.String(length=255), nullable=False),
        sa.Column("pull_request", sa.BigInteger(), nullable=False),
        sa.Column("given_version", sa.String(length=100), nullable=True),
        sa.Column("given_by", sa.String(length=255), nullable=True),
        sa.Column("given_team", sa.String(length=255), nullable=True),
        sa.Column("given_comment_id", sa.BigInteger(), nullable=True),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("judged_head_sha", sa.String(length=64), nullable=True),
        sa.Column("judged_version", sa.String(length=100), nullable=True),
        sa.Column("judged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint(
            "contract_id", "repo", "pull_request", name=op.f("pk_pull_request_versions")
        ),
    )


def downgrade() -> None:
    op.drop_table("pull_request_versions")
