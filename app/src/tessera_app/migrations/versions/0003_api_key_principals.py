"""api key principals: the team a write key acts for, the owner of an admin key

Keys made before this revision keep working for reads; a write key without a team and an
admin key without an owner are refused on writes until replaced (``tessera_app.principals``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 21:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("owner", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("owner")
        batch_op.drop_column("team")
