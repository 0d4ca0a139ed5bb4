"""The hot path's SQL, built once: every command runs these, so they are plain Core
statements with bound parameters (SQLAlchemy caches their compiled form)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, bindparam, delete, insert, select, update

from engine.store.models import AuditEventRow, HumanTaskRow, InstanceRow, TimerRow

# each model is mapped to a Table; DeclarativeBase annotates ``__table__`` as any FromClause
INSTANCES = cast(Table, InstanceRow.__table__)
TASKS = cast(Table, HumanTaskRow.__table__)
TIMERS = cast(Table, TimerRow.__table__)
AUDIT = cast(Table, AuditEventRow.__table__)

TASK_OWNER = select(TASKS.c.instance_id, TASKS.c.form).where(TASKS.c.id == bindparam("task_id"))

LOCK_INSTANCE = (select(INSTANCES).where(INSTANCES.c.id == bindparam("instance_id")).with_for_update())

#: a worker's claim: on PostgreSQL an instance another transaction holds is skipped (no row)
#: instead of waited for; SQLite has no row locks and ignores the clause (its version column
#: still lets only one writer win)
CLAIM_INSTANCE = (select(INSTANCES).where(INSTANCES.c.id == bindparam("instance_id"))
                  .with_for_update(skip_locked=True))

#: re-checked under the claim: is a timer of the instance still due?
DUE_TIMER = (select(TIMERS.c.id).where(TIMERS.c.instance_id == bindparam("instance_id"),
                                       TIMERS.c.wake_at <= bindparam("now")).limit(1))

INSERT_INSTANCE = insert(INSTANCES)

SAVE_INSTANCE = (update(INSTANCES)
                 .where(INSTANCES.c.id == bindparam("instance_id"),
                        INSTANCES.c.lock_version == bindparam("expected_version"))
                 .values(state=bindparam("state"), status=bindparam("status"),
                         lock_version=bindparam("lock_version"), updated_at=bindparam("updated_at"),
                         ended_at=bindparam("ended_at")))

DELETE_TASKS = delete(TASKS).where(TASKS.c.id.in_(bindparam("ids", expanding=True)))
INSERT_TASKS = insert(TASKS)
DELETE_TIMERS = delete(TIMERS).where(TIMERS.c.id.in_(bindparam("ids", expanding=True)))
INSERT_TIMERS = insert(TIMERS)
INSERT_AUDIT = insert(AUDIT)
