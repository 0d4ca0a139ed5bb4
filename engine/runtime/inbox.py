"""Who sees and acts on which task: members of a task's role (primary or backup) and admins.
Claims say who is working on a task; they do not lock others out of completing it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from engine import people
from engine.errors import Conflict, NotFound
from engine.runtime.queries import task_view
from engine.store.models import DefinitionRow, HumanTaskRow, InstanceRow, UserRow
from engine.views import TaskView


def may_act(session: Session, username: str, task: TaskView) -> bool:
    user = session.get(UserRow, username)
    if user is None or not user.active:
        return False
    return user.admin or (task.role is not None and task.role in people.roles_of(session, username))


def _visible_roles(session: Session, username: str) -> list[str] | None:
    """The roles whose tasks the user sees; None for admins (all tasks)."""
    user = session.get(UserRow, username)
    if user is None or not user.active:
        raise NotFound(f"no user '{username}'")
    return None if user.admin else list(people.roles_of(session, username))


_T = HumanTaskRow.__table__
_I = InstanceRow.__table__
_D = DefinitionRow.__table__


def _conditions(roles: list[str] | None, instance_id: str | None, role: str | None, key: str | None,
                claimed_by: str | None, unclaimed: bool, not_claimed_by: str | None) -> list[Any]:
    where: list[Any] = []
    if roles is not None:
        where.append(_T.c.role.in_(roles))
    if instance_id:
        where.append(_T.c.instance_id == instance_id)
    if role:
        where.append(_T.c.role == role)
    if key:
        where.append(_T.c.instance_id.in_(select(_I.c.id).join(_D, _D.c.id == _I.c.definition_id)
                                          .where(_D.c.key == key)))
    if claimed_by:
        where.append(_T.c.claimed_by == claimed_by)
    if unclaimed:
        where.append(_T.c.claimed_by.is_(None))
    if not_claimed_by:
        where.append(or_(_T.c.claimed_by.is_(None), _T.c.claimed_by != not_claimed_by))
    return where


def select_tasks(session: Session, roles: list[str] | None = None, instance_id: str | None = None,
                 role: str | None = None, key: str | None = None, claimed_by: str | None = None,
                 unclaimed: bool = False, not_claimed_by: str | None = None,
                 limit: int | None = None) -> list[TaskView]:
    """Open tasks matching the filters (``roles`` None: any role), earliest deadline first (no
    deadline last), at most ``limit``; each carries its runbook key and business key (one join).
    With a limit, tasks with and without a deadline are read by two index-ordered queries so
    the database never sorts the whole inbox."""
    where = _conditions(roles, instance_id, role, key, claimed_by, unclaimed, not_claimed_by)
    order = (_T.c.due_at.is_(None), _T.c.due_at, _T.c.ready_at, _T.c.id)
    connection = session.connection()

    def labelled(tasks: Any, *ordering: Any) -> list[Any]:
        # the tasks are chosen on human_tasks alone (its indexes), then labelled by the join
        chosen = tasks.subquery()
        joined = chosen.join(_I, _I.c.id == chosen.c.instance_id).join(_D, _D.c.id == _I.c.definition_id)
        return list(connection.execute(select(chosen, _D.c.key.label("definition_key"), _I.c.business_key)
                                       .select_from(joined).order_by(*(chosen.c[c.name] for c in ordering))))

    base = select(_T).where(*where)
    if limit is None:
        rows = labelled(base.order_by(*order), _T.c.due_at, _T.c.ready_at, _T.c.id)
        rows.sort(key=lambda r: (r.due_at is None, r.due_at or r.ready_at, r.ready_at, r.id))
    else:
        rows = labelled(base.where(_T.c.due_at.is_not(None)).order_by(*order[1:]).limit(limit), *order[1:])
        if len(rows) < limit:
            rows += labelled(base.where(_T.c.due_at.is_(None)).order_by(_T.c.ready_at, _T.c.id)
                             .limit(limit - len(rows)), _T.c.ready_at, _T.c.id)
    return [replace(task_view(r), key=r.definition_key, business_key=r.business_key) for r in rows]


def count_tasks(session: Session, roles: list[str] | None = None, instance_id: str | None = None,
                role: str | None = None, key: str | None = None, claimed_by: str | None = None,
                unclaimed: bool = False, not_claimed_by: str | None = None) -> int:
    """How many tasks ``select_tasks`` would return without a limit."""
    where = _conditions(roles, instance_id, role, key, claimed_by, unclaimed, not_claimed_by)
    return int(session.connection().execute(select(func.count()).select_from(_T).where(*where)).scalar_one())


def inbox(session: Session, username: str, instance_id: str | None = None,
          role: str | None = None, key: str | None = None, claimed_by: str | None = None,
          unclaimed: bool = False, not_claimed_by: str | None = None,
          limit: int | None = None) -> list[TaskView]:
    """The user's visible tasks: their roles' (admins: all), earliest deadline first."""
    return select_tasks(session, _visible_roles(session, username), instance_id, role, key, claimed_by,
                        unclaimed, not_claimed_by, limit)


def inbox_count(session: Session, username: str, instance_id: str | None = None,
                role: str | None = None, key: str | None = None, claimed_by: str | None = None,
                unclaimed: bool = False, not_claimed_by: str | None = None) -> int:
    return count_tasks(session, _visible_roles(session, username), instance_id, role, key, claimed_by,
                       unclaimed, not_claimed_by)


def claim(session: Session, task_id: str, username: str | None) -> TaskView:
    """Set (or with None, clear) who works on a task; claiming a task someone else holds is a
    conflict (unclaim first)."""
    row = session.get(HumanTaskRow, task_id)
    if row is None:
        raise NotFound(f"no open task '{task_id}'")
    if username is not None and row.claimed_by not in (None, username):
        raise Conflict(f"task {task_id} is already claimed by {row.claimed_by}")
    session.execute(update(HumanTaskRow).where(HumanTaskRow.id == task_id).values(claimed_by=username))
    session.flush()
    session.refresh(row)
    return task_view(row)
