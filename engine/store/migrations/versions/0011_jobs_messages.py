"""Schema for issue 15 (external jobs, messages).

Frozen once released, like the baseline: it does not import ``engine.store.models``.

Revision ID: 0011_jobs_messages
Revises: 0010_hardening
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0011_jobs_messages"
down_revision = "0010_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
