"""Schema for issue 17 (roll call answers).

Frozen once released, like the baseline: it does not import ``engine.store.models``.

Revision ID: 0012_rollcall
Revises: 0011_jobs_messages
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0012_rollcall"
down_revision = "0011_jobs_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
