"""audit anchors: every audit event carries an Ed25519 signature and the id of its key

Events written before this revision keep no signature: in the same transaction, this revision
appends one ``audit.signing_started`` event signed with the service's audit key (from its
settings), which covers them through the hash chain (``tessera_app.audit_signing_start``). It
is the only place where rows from before signing are ever covered; an empty log is signed from
its first event. Signing needs the rows, so this revision cannot be rendered as SQL offline.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 21:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if context.is_offline_mode():
        raise RuntimeError(
            "revision 0004 signs the audit events written before it with the service's audit "
            "key: run it against the database (tessera-app migrate), not as offline SQL"
        )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("signature", sa.String(length=88), nullable=True))

    from tessera_app.audit_keys import process_key
    from tessera_app.audit_signing_start import sign_history

    sign_history(op.get_bind(), process_key())


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("signature")
        batch_op.drop_column("key_id")
