"""Who sees and acts on which task: members of a task's role (primary or backup) and admins.
Claims say who is working on a task; they do not lock others out of completing it."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import people
from engine.errors import Conflict, NotFound
from engine.runtime.queries import task_view
from engine.store.models import HumanTaskRow, UserRow
from engine.views import TaskView


def may_act(session: Session, username: str, task: TaskView) -> bool:
    user = session.get(UserRow, username)
    if user is None or not user.active:
        return False
    return user.admin or (task.role is not None and task.role in people.roles_of(session, username))


def inbox(session: Session, username: str, instance_id: str | None = None,
          role: str | None = None) -> list[TaskView]:
    """The user's visible tasks: their roles' (admins: all), earliest deadline first."""
    user = session.get(UserRow, username)
    if user is None or not user.active:
        raise NotFound(f"no user '{username}'")
    table = HumanTaskRow.__table__
    query = select(table)
    if not user.admin:
        query = query.where(table.c.role.in_(people.roles_of(session, username)))
    if instance_id:
        query = query.where(table.c.instance_id == instance_id)
    if role:
        query = query.where(table.c.role == role)
    query = query.order_by(table.c.due_at.is_(None), table.c.due_at, table.c.ready_at, table.c.id)
    return [task_view(r) for r in session.connection().execute(query)]


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
