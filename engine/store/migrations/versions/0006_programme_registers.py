"""Schema for issue 13 part A (BIA, resources, register columns).

Frozen once released, like the baseline: it does not import ``engine.store.models``.

Revision ID: 0006_programme_registers
Revises: 0005_responder_console
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0006_programme_registers"
down_revision = "0005_responder_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
