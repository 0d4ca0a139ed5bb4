"""Tables.  Definitions and instance states are the truth; the rest are projections
(human tasks, timers, incidents) rewritten after every command, plus the append-only audit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from engine.clock import as_utc


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in and out, on SQLite (which has no zones) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class DeploymentRow(Base):
    __tablename__ = "deployments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime]


class SourceFileRow(Base):
    __tablename__ = "source_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"), index=True)
    name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    dialect: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class DefinitionRow(Base):
    """One version of one process key; its spec is stored once, here."""

    __tablename__ = "definitions"
    __table_args__ = (UniqueConstraint("key", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(500))
    executable: Mapped[bool] = mapped_column(Boolean)
    sha256: Mapped[str] = mapped_column(String(400))   # "<file sha256>:<process key>"
    source_file_id: Mapped[int] = mapped_column(ForeignKey("source_files.id"))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    spec: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    tasks: Mapped[dict[str, Any]] = mapped_column(JSON)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON)
    warnings: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class InstanceRow(Base):
    __tablename__ = "instances"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"), index=True)
    business_key: Mapped[str | None] = mapped_column(String(255), index=True, nullable=True)
    status: Mapped[str] = mapped_column(String(20), index=True)   # running|completed|incident|cancelled
    state: Mapped[str] = mapped_column(Text)                        # JSON of the Spiff workflow, no spec
    lock_version: Mapped[int] = mapped_column(Integer, default=0)   # optimistic lock for SQLite
    started_at: Mapped[datetime]                                    # virtual (instance clock)
    ended_at: Mapped[datetime | None] = mapped_column(nullable=True)
    speed: Mapped[float | None] = mapped_column(Float, nullable=True)
    wall_anchor: Mapped[datetime | None] = mapped_column(nullable=True)  # base clock at start
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]


class HumanTaskRow(Base):
    """Projection: a ready manual/user task, with its role, form and due time."""

    __tablename__ = "human_tasks"
    __table_args__ = (Index("ix_human_tasks_role_due", "role", "due_at"),
                      # "claimed by me": partial, so SQLite's statistics see how selective it is
                      Index("ix_human_tasks_claimed_due", "claimed_by", "due_at",
                            sqlite_where=text("claimed_by IS NOT NULL"),
                            postgresql_where=text("claimed_by IS NOT NULL")))
    id: Mapped[str] = mapped_column(String(36), primary_key=True)   # SpiffWorkflow task id
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id"), index=True)
    bpmn_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(500))
    role: Mapped[str | None] = mapped_column(String(255), index=True, nullable=True)
    form: Mapped[list[Any]] = mapped_column(JSON)
    ready_at: Mapped[datetime]
    due_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    drill: Mapped[bool] = mapped_column(Boolean, default=False)      # shown as DRILL in every inbox


class TimerRow(Base):
    """Projection: a pending timer; ``wake_at`` is on the engine clock, ``due_at`` on the
    instance's (possibly scaled) clock."""

    __tablename__ = "timers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)   # SpiffWorkflow task id
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id"), index=True)
    bpmn_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[datetime]
    wake_at: Mapped[datetime] = mapped_column(index=True)


class IncidentRow(Base):
    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    bpmn_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    message: Mapped[str] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)


class AuditEventRow(Base):
    """Append-only: who did what, when (the incident log of ISO 22301 8.4.3)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_instance_seq", "instance_id", "id"),
                      # a task's history by its id (task page and API after completion, conflicts)
                      Index("ix_audit_task", "task_id", sqlite_where=text("task_id IS NOT NULL"),
                            postgresql_where=text("task_id IS NOT NULL")))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    instance_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    at: Mapped[datetime]                 # instance (virtual) time
    wall_at: Mapped[datetime]            # engine clock
    actor: Mapped[str | None] = mapped_column(String(255), nullable=True)
    kind: Mapped[str] = mapped_column(String(60))
    bpmn_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class UserRow(Base):
    __tablename__ = "users"
    username: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    webhook: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    password_hash: Mapped[str | None] = mapped_column(String(500), nullable=True)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RoleRow(Base):
    __tablename__ = "roles"
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    description: Mapped[str] = mapped_column(String(1000), default="")
    webhook: Mapped[str | None] = mapped_column(String(1000), nullable=True)


class RoleMemberRow(Base):
    """A/B membership: ``position`` is primary or backup; ``rank`` orders within a position."""

    __tablename__ = "role_members"
    role: Mapped[str] = mapped_column(ForeignKey("roles.name", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("users.username", ondelete="CASCADE"), primary_key=True)
    position: Mapped[str] = mapped_column(String(10))
    rank: Mapped[int] = mapped_column(Integer, default=0)


class NotificationRow(Base):
    """Transactional outbox: written with the instance state, delivered after commit.

    ``key`` makes a send idempotent: the same task of the same instance never queues the same
    message to the same addressee twice, however often the command is retried."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(500), unique=True)
    instance_id: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    bpmn_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    channel: Mapped[str] = mapped_column(String(20))          # email | webhook
    target: Mapped[str] = mapped_column(String(1000))         # email address or URL
    addressee: Mapped[str] = mapped_column(String(255))       # username or role
    subject: Mapped[str] = mapped_column(String(1000))
    body: Mapped[str] = mapped_column(Text)
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), index=True)   # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)


class DrillReportRow(Base):
    """One exercise: the scenario it ran and the report it produced (ISO 22301 8.5 evidence)."""

    __tablename__ = "drill_reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))               # simulated | live
    scenario: Mapped[dict[str, Any]] = mapped_column(JSON)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    schedule_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class CorrectiveActionRow(Base):
    """A follow-up for a missed target, owned by the role that missed it."""

    __tablename__ = "corrective_actions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("drill_reports.id"), index=True)
    bpmn_id: Mapped[str] = mapped_column(String(255))
    owner_role: Mapped[str | None] = mapped_column(String(255), nullable=True)
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime]


class DrillScheduleRow(Base):
    """A recurring drill; ``next_run_at`` is the truth the worker checks (survives restarts)."""

    __tablename__ = "drill_schedules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    scenario: Mapped[dict[str, Any]] = mapped_column(JSON)
    every: Mapped[str | None] = mapped_column(String(100), nullable=True)     # ISO duration, e.g. P3M
    cron: Mapped[str | None] = mapped_column(String(200), nullable=True)      # crontab expression
    next_run_at: Mapped[datetime] = mapped_column(index=True)
    last_run_at: Mapped[datetime | None] = mapped_column(nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


# -- plan registers and scheduled processes (revision 0002_plan_registers) ----------------------

class RiskRow(Base):
    """The risk register: likelihood × impact (1–5 each), linked to process steps and runbooks."""

    __tablename__ = "risks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)        # the register's id, e.g. R1
    risk: Mapped[str] = mapped_column(Text)
    likelihood: Mapped[int] = mapped_column(Integer)
    impact: Mapped[int] = mapped_column(Integer)
    process: Mapped[str] = mapped_column(String(255), default="")
    steps: Mapped[str] = mapped_column(Text, default="")               # BPMN ids or names, ';'-separated
    runbook: Mapped[str] = mapped_column(String(255), default="")
    controls: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OptimisationTargetRow(Base):
    """An optimisation target; its metric's current value is read from observed KPIs."""

    __tablename__ = "optimisation_targets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    goal: Mapped[str] = mapped_column(Text)
    pain_point: Mapped[str] = mapped_column(Text, default="")
    expected_benefit: Mapped[str] = mapped_column(Text, default="")
    key: Mapped[str] = mapped_column(String(255), default="")          # process key of the metric
    metric: Mapped[str] = mapped_column(String(60))
    step: Mapped[str] = mapped_column(String(255), default="")
    target: Mapped[float | None] = mapped_column(Float, nullable=True)
    direction: Mapped[str] = mapped_column(String(10), default="below")
    owner: Mapped[str] = mapped_column(String(255), default="")
    deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ProcessScheduleRow(Base):
    """A process started on a schedule (the quarterly plan review); like drill schedules,
    ``next_run_at`` is the truth the worker checks, and a missed run runs once."""

    __tablename__ = "process_schedules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    every: Mapped[str | None] = mapped_column(String(100), nullable=True)     # ISO duration, e.g. P3M
    cron: Mapped[str | None] = mapped_column(String(200), nullable=True)      # crontab expression
    next_run_at: Mapped[datetime] = mapped_column(index=True)
    last_run_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_instance_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class KpiAlertStateRow(Base):
    """Whether a KPI threshold is firing, and which firing episode it is in: a notification
    goes out once per episode (again only after the alert cleared and fired anew)."""

    __tablename__ = "kpi_alert_states"
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    firing: Mapped[bool] = mapped_column(Boolean, default=False)
    episode: Mapped[int] = mapped_column(Integer, default=0)
    since: Mapped[datetime | None] = mapped_column(nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[datetime]


class LoginFailureRow(Base):
    """One failed sign-in counted against one key, a user name or a client address (stored as
    the SHA-256 of ``user:<name>`` / ``addr:<address>``): the login rate limit, shared by every
    web process on the database.  Rows older than the window are pruned (engine.login_throttle)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_failed_at", "key", "failed_at"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(index=True)
