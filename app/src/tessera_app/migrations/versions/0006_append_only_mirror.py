"""append-only mirror: what the registry mirror applied, and its open findings

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 21:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registry_syncs",
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("commit", sa.String(length=64), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_since", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_registry_syncs")),
    )
    op.create_table(
        "mirror_findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=335), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirror_findings")),
        sa.UniqueConstraint("kind", "subject", name=op.f("uq_mirror_findings_kind")),
    )


def downgrade() -> None:
    op.drop_table("mirror_findings")
    op.drop_table("registry_syncs")
