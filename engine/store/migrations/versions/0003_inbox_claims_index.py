"""Inbox: an index on (claimed_by, due_at), so "claimed by me" (the inbox page's first list and
its count) is an index lookup instead of a walk over every task of the user's roles.  Partial
(``claimed_by IS NOT NULL``): most tasks are unclaimed, and SQLite's statistics would otherwise
count every NULL as one value and judge the index useless.  And an index on audit_events
(task_id), partial likewise: a completed task's history (who completed it, when) is read by its
id from the task page, the API and the "already completed by …" conflict.

Frozen on purpose, like the baseline: it does not import ``engine.store.models``.

Revision ID: 0003_inbox_claims_index
Revises: 0002_plan_registers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_inbox_claims_index"
down_revision = "0002_plan_registers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    claimed = sa.text("claimed_by IS NOT NULL")
    op.create_index("ix_human_tasks_claimed_due", "human_tasks", ["claimed_by", "due_at"], unique=False,
                    sqlite_where=claimed, postgresql_where=claimed)
    has_task = sa.text("task_id IS NOT NULL")
    op.create_index("ix_audit_task", "audit_events", ["task_id"], unique=False,
                    sqlite_where=has_task, postgresql_where=has_task)


def downgrade() -> None:
    op.drop_index("ix_audit_task", table_name="audit_events")
    op.drop_index("ix_human_tasks_claimed_due", table_name="human_tasks")
