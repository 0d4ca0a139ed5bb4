"""Schema for issue 14 (measures, training, plan documents).

Frozen once released, like the baseline: it does not import ``engine.store.models``.

Revision ID: 0008_programme_plan
Revises: 0007_programme_actions_kpis
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0008_programme_plan"
down_revision = "0007_programme_actions_kpis"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
