"""Login rate limit in the database: ``login_failures`` holds the failed sign-ins of the last
window, one row per key (the SHA-256 of a user name or a client address), so the limit holds
across several web processes instead of each process keeping its own count.  Indexed by (key,
failed_at) for the count and by failed_at for pruning.

Frozen on purpose, like the baseline: it does not import ``engine.store.models``.

Revision ID: 0004_login_failures
Revises: 0003_inbox_claims_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_login_failures"
down_revision = "0003_inbox_claims_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("login_failures",
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
    sa.Column("key", sa.String(length=64), nullable=False),
    sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_login_failures_key_failed_at", "login_failures", ["key", "failed_at"], unique=False)
    op.create_index(op.f("ix_login_failures_failed_at"), "login_failures", ["failed_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_login_failures_failed_at"), table_name="login_failures")
    op.drop_index("ix_login_failures_key_failed_at", table_name="login_failures")
    op.drop_table("login_failures")
