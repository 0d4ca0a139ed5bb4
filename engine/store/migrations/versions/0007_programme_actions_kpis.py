"""Schema for issue 13 part B (corrective actions as work, KPI thresholds).

Frozen once released, like the baseline: it does not import ``engine.store.models``.

Revision ID: 0007_programme_actions_kpis
Revises: 0006_programme_registers
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0007_programme_actions_kpis"
down_revision = "0006_programme_registers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
