"""Schema for issue 16 (tokens, sessions).

Frozen once released, like the baseline: it does not import ``engine.store.models``.

Revision ID: 0010_hardening
Revises: 0009_sandbox_quarantine
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0010_hardening"
down_revision = "0009_sandbox_quarantine"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
