"""Schema for issue 16 items 1-2 (poison instances).

Frozen once released, like the baseline: it does not import ``engine.store.models``.

Revision ID: 0009_sandbox_quarantine
Revises: 0008_programme_plan
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0009_sandbox_quarantine"
down_revision = "0008_programme_plan"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
