"""Baseline: the schema of contiflow 0.1.0 (the release before migrations).

Databases made by 0.1.0 have these tables and no ``alembic_version``; ``create_schema`` (and
``contiflow db upgrade``) stamp them at this revision and go on from here.

Frozen on purpose: it does not import ``engine.store.models`` (the models move on, this does
not). ``UTCDateTime`` is a Python-side conversion over ``DateTime(timezone=True)``, which is
what is created here. Constraint names are left to the database, as ``create_all`` did.

Revision ID: 0001_baseline
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table("audit_events",
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
    sa.Column("instance_id", sa.String(length=32), nullable=True),
    sa.Column("at", UTC_DATETIME, nullable=False),
    sa.Column("wall_at", UTC_DATETIME, nullable=False),
    sa.Column("actor", sa.String(length=255), nullable=True),
    sa.Column("kind", sa.String(length=60), nullable=False),
    sa.Column("bpmn_id", sa.String(length=255), nullable=True),
    sa.Column("task_id", sa.String(length=36), nullable=True),
    sa.Column("detail", sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_audit_instance_seq", "audit_events", ["instance_id", "id"], unique=False)
    op.create_table("deployments",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("created_at", UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_table("drill_reports",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("key", sa.String(length=255), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(length=20), nullable=False),
    sa.Column("scenario", sa.JSON(), nullable=False),
    sa.Column("started_at", UTC_DATETIME, nullable=False),
    sa.Column("finished_at", UTC_DATETIME, nullable=True),
    sa.Column("report", sa.JSON(), nullable=False),
    sa.Column("schedule_id", sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index(op.f("ix_drill_reports_key"), "drill_reports", ["key"], unique=False)
    op.create_table("drill_schedules",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("key", sa.String(length=255), nullable=False),
    sa.Column("scenario", sa.JSON(), nullable=False),
    sa.Column("every", sa.String(length=100), nullable=True),
    sa.Column("cron", sa.String(length=200), nullable=True),
    sa.Column("next_run_at", UTC_DATETIME, nullable=False),
    sa.Column("last_run_at", UTC_DATETIME, nullable=True),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("created_at", UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index(op.f("ix_drill_schedules_next_run_at"), "drill_schedules", ["next_run_at"], unique=False)
    op.create_table("notifications",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("key", sa.String(length=500), nullable=False),
    sa.Column("instance_id", sa.String(length=32), nullable=True),
    sa.Column("task_id", sa.String(length=36), nullable=True),
    sa.Column("bpmn_id", sa.String(length=255), nullable=True),
    sa.Column("channel", sa.String(length=20), nullable=False),
    sa.Column("target", sa.String(length=1000), nullable=False),
    sa.Column("addressee", sa.String(length=255), nullable=False),
    sa.Column("subject", sa.String(length=1000), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("drill", sa.Boolean(), nullable=False),
    sa.Column("status", sa.String(length=20), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", UTC_DATETIME, nullable=False),
    sa.Column("claimed_at", UTC_DATETIME, nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("created_at", UTC_DATETIME, nullable=False),
    sa.Column("sent_at", UTC_DATETIME, nullable=True),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("key")
    )
    op.create_index(op.f("ix_notifications_instance_id"), "notifications", ["instance_id"], unique=False)
    op.create_index(op.f("ix_notifications_next_attempt_at"), "notifications", ["next_attempt_at"], unique=False)
    op.create_index(op.f("ix_notifications_status"), "notifications", ["status"], unique=False)
    op.create_table("roles",
    sa.Column("name", sa.String(length=255), nullable=False),
    sa.Column("description", sa.String(length=1000), nullable=False),
    sa.Column("webhook", sa.String(length=1000), nullable=True),
    sa.PrimaryKeyConstraint("name")
    )
    op.create_table("users",
    sa.Column("username", sa.String(length=255), nullable=False),
    sa.Column("name", sa.String(length=255), nullable=False),
    sa.Column("email", sa.String(length=255), nullable=True),
    sa.Column("webhook", sa.String(length=1000), nullable=True),
    sa.Column("password_hash", sa.String(length=500), nullable=True),
    sa.Column("admin", sa.Boolean(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint("username")
    )
    op.create_table("corrective_actions",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("report_id", sa.Integer(), nullable=False),
    sa.Column("bpmn_id", sa.String(length=255), nullable=False),
    sa.Column("owner_role", sa.String(length=255), nullable=True),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("status", sa.String(length=20), nullable=False),
    sa.Column("created_at", UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(["report_id"], ["drill_reports.id"]),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index(op.f("ix_corrective_actions_report_id"), "corrective_actions", ["report_id"], unique=False)
    op.create_table("role_members",
    sa.Column("role", sa.String(length=255), nullable=False),
    sa.Column("username", sa.String(length=255), nullable=False),
    sa.Column("position", sa.String(length=10), nullable=False),
    sa.Column("rank", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["role"], ["roles.name"], ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["username"], ["users.username"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("role", "username")
    )
    op.create_table("source_files",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("deployment_id", sa.Integer(), nullable=False),
    sa.Column("name", sa.String(length=500), nullable=False),
    sa.Column("sha256", sa.String(length=64), nullable=False),
    sa.Column("dialect", sa.String(length=40), nullable=False),
    sa.Column("kind", sa.String(length=10), nullable=False),
    sa.Column("content", sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(["deployment_id"], ["deployments.id"]),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index(op.f("ix_source_files_deployment_id"), "source_files", ["deployment_id"], unique=False)
    op.create_index(op.f("ix_source_files_sha256"), "source_files", ["sha256"], unique=False)
    op.create_table("definitions",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("key", sa.String(length=255), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("name", sa.String(length=500), nullable=False),
    sa.Column("executable", sa.Boolean(), nullable=False),
    sa.Column("sha256", sa.String(length=400), nullable=False),
    sa.Column("source_file_id", sa.Integer(), nullable=False),
    sa.Column("deployment_id", sa.Integer(), nullable=False),
    sa.Column("spec", sa.JSON(), nullable=True),
    sa.Column("tasks", sa.JSON(), nullable=False),
    sa.Column("properties", sa.JSON(), nullable=False),
    sa.Column("warnings", sa.JSON(), nullable=False),
    sa.Column("created_at", UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(["deployment_id"], ["deployments.id"]),
    sa.ForeignKeyConstraint(["source_file_id"], ["source_files.id"]),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("key", "version")
    )
    op.create_index(op.f("ix_definitions_key"), "definitions", ["key"], unique=False)
    op.create_table("instances",
    sa.Column("id", sa.String(length=32), nullable=False),
    sa.Column("definition_id", sa.Integer(), nullable=False),
    sa.Column("business_key", sa.String(length=255), nullable=True),
    sa.Column("status", sa.String(length=20), nullable=False),
    sa.Column("state", sa.Text(), nullable=False),
    sa.Column("lock_version", sa.Integer(), nullable=False),
    sa.Column("started_at", UTC_DATETIME, nullable=False),
    sa.Column("ended_at", UTC_DATETIME, nullable=True),
    sa.Column("speed", sa.Float(), nullable=True),
    sa.Column("wall_anchor", UTC_DATETIME, nullable=True),
    sa.Column("drill", sa.Boolean(), nullable=False),
    sa.Column("updated_at", UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(["definition_id"], ["definitions.id"]),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index(op.f("ix_instances_business_key"), "instances", ["business_key"], unique=False)
    op.create_index(op.f("ix_instances_definition_id"), "instances", ["definition_id"], unique=False)
    op.create_index(op.f("ix_instances_status"), "instances", ["status"], unique=False)
    op.create_table("human_tasks",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("instance_id", sa.String(length=32), nullable=False),
    sa.Column("bpmn_id", sa.String(length=255), nullable=False),
    sa.Column("name", sa.String(length=500), nullable=False),
    sa.Column("role", sa.String(length=255), nullable=True),
    sa.Column("form", sa.JSON(), nullable=False),
    sa.Column("ready_at", UTC_DATETIME, nullable=False),
    sa.Column("due_at", UTC_DATETIME, nullable=True),
    sa.Column("claimed_by", sa.String(length=255), nullable=True),
    sa.Column("drill", sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(["instance_id"], ["instances.id"]),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index(op.f("ix_human_tasks_due_at"), "human_tasks", ["due_at"], unique=False)
    op.create_index(op.f("ix_human_tasks_instance_id"), "human_tasks", ["instance_id"], unique=False)
    op.create_index(op.f("ix_human_tasks_role"), "human_tasks", ["role"], unique=False)
    op.create_index("ix_human_tasks_role_due", "human_tasks", ["role", "due_at"], unique=False)
    op.create_table("incidents",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("instance_id", sa.String(length=32), nullable=False),
    sa.Column("task_id", sa.String(length=36), nullable=True),
    sa.Column("bpmn_id", sa.String(length=255), nullable=True),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("line", sa.Integer(), nullable=True),
    sa.Column("created_at", UTC_DATETIME, nullable=False),
    sa.Column("resolved_at", UTC_DATETIME, nullable=True),
    sa.ForeignKeyConstraint(["instance_id"], ["instances.id"]),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index(op.f("ix_incidents_instance_id"), "incidents", ["instance_id"], unique=False)
    op.create_table("timers",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("instance_id", sa.String(length=32), nullable=False),
    sa.Column("bpmn_id", sa.String(length=255), nullable=False),
    sa.Column("kind", sa.String(length=40), nullable=False),
    sa.Column("due_at", UTC_DATETIME, nullable=False),
    sa.Column("wake_at", UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(["instance_id"], ["instances.id"]),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index(op.f("ix_timers_instance_id"), "timers", ["instance_id"], unique=False)
    op.create_index(op.f("ix_timers_wake_at"), "timers", ["wake_at"], unique=False)


def downgrade() -> None:
    op.drop_table("timers")
    op.drop_table("incidents")
    op.drop_table("human_tasks")
    op.drop_table("instances")
    op.drop_table("definitions")
    op.drop_table("source_files")
    op.drop_table("role_members")
    op.drop_table("corrective_actions")
    op.drop_table("users")
    op.drop_table("roles")
    op.drop_table("notifications")
    op.drop_table("drill_schedules")
    op.drop_table("drill_reports")
    op.drop_table("deployments")
    op.drop_table("audit_events")
