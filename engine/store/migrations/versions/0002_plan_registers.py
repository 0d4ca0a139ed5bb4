"""Plan registers: the risk register and optimisation targets (editable, CSV in and out),
processes started on a schedule (the quarterly plan review), and the firing state of KPI
alerts (one notification per firing episode).

Frozen on purpose, like the baseline: it does not import ``engine.store.models``.

Revision ID: 0002_plan_registers
Revises: 0001_baseline
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_plan_registers"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table("risks",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("ref", sa.String(length=40), nullable=False),
    sa.Column("risk", sa.Text(), nullable=False),
    sa.Column("likelihood", sa.Integer(), nullable=False),
    sa.Column("impact", sa.Integer(), nullable=False),
    sa.Column("process", sa.String(length=255), nullable=False),
    sa.Column("steps", sa.Text(), nullable=False),
    sa.Column("runbook", sa.String(length=255), nullable=False),
    sa.Column("controls", sa.Text(), nullable=False),
    sa.Column("owner", sa.String(length=255), nullable=False),
    sa.Column("created_at", UTC_DATETIME, nullable=False),
    sa.Column("updated_at", UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("ref")
    )
    op.create_table("optimisation_targets",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("goal", sa.Text(), nullable=False),
    sa.Column("pain_point", sa.Text(), nullable=False),
    sa.Column("expected_benefit", sa.Text(), nullable=False),
    sa.Column("key", sa.String(length=255), nullable=False),
    sa.Column("metric", sa.String(length=60), nullable=False),
    sa.Column("step", sa.String(length=255), nullable=False),
    sa.Column("target", sa.Float(), nullable=True),
    sa.Column("direction", sa.String(length=10), nullable=False),
    sa.Column("owner", sa.String(length=255), nullable=False),
    sa.Column("deadline", sa.Date(), nullable=True),
    sa.Column("created_at", UTC_DATETIME, nullable=False),
    sa.Column("updated_at", UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_table("process_schedules",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("key", sa.String(length=255), nullable=False),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.Column("every", sa.String(length=100), nullable=True),
    sa.Column("cron", sa.String(length=200), nullable=True),
    sa.Column("next_run_at", UTC_DATETIME, nullable=False),
    sa.Column("last_run_at", UTC_DATETIME, nullable=True),
    sa.Column("last_instance_id", sa.String(length=32), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("created_at", UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index(op.f("ix_process_schedules_key"), "process_schedules", ["key"], unique=False)
    op.create_index(op.f("ix_process_schedules_next_run_at"), "process_schedules", ["next_run_at"], unique=False)
    op.create_table("kpi_alert_states",
    sa.Column("name", sa.String(length=255), nullable=False),
    sa.Column("firing", sa.Boolean(), nullable=False),
    sa.Column("episode", sa.Integer(), nullable=False),
    sa.Column("since", UTC_DATETIME, nullable=True),
    sa.Column("value", sa.Float(), nullable=True),
    sa.Column("updated_at", UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint("name")
    )


def downgrade() -> None:
    op.drop_table("kpi_alert_states")
    op.drop_index(op.f("ix_process_schedules_next_run_at"), table_name="process_schedules")
    op.drop_index(op.f("ix_process_schedules_key"), table_name="process_schedules")
    op.drop_table("process_schedules")
    op.drop_table("optimisation_targets")
    op.drop_table("risks")
