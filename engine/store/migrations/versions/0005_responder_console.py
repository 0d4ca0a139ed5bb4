"""Schema for issue 12 (responder console: severity, lead, notes, one-tap links…).

Frozen once released, like the baseline: it does not import ``engine.store.models``.

Revision ID: 0005_responder_console
Revises: 0004_login_failures
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0005_responder_console"
down_revision = "0004_login_failures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
