"""Who sees and acts on which task: members of a task's role (primary or backup) and admins.
Claims say who is working on a task; they do not lock others out of completing it."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from engine import people
from engine.clock import as_utc, isoformat
from engine.errors import Conflict, NotFound
from engine.runtime.definition_cache import DefinitionCache, DefinitionInfo
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


@dataclass(frozen=True)
class Filters:
    """Which open tasks: ``roles`` None means any role (admins, tokens, the CLI)."""
    roles: Sequence[str] | None = None
    instance_id: str | None = None
    role: str | None = None
    key: str | None = None
    claimed_by: str | None = None
    unclaimed: bool = False
    not_claimed_by: str | None = None

    def shape(self) -> tuple[Any, ...]:
        return (self.roles is not None, bool(self.instance_id), bool(self.role), bool(self.key),
                bool(self.claimed_by), self.unclaimed, bool(self.not_claimed_by), self.merged_roles())

    def merged_roles(self) -> int:
        """How many roles are read one by one and merged (2 to MERGE_ROLES; else 0: one IN)."""
        count = len(self.roles) if self.roles is not None else 0
        return count if 2 <= count <= MERGE_ROLES else 0

    def params(self) -> dict[str, Any]:
        values = {"instance_id": self.instance_id, "role": self.role, "key": self.key,
                  "claimed_by": self.claimed_by, "not_claimed_by": self.not_claimed_by}
        params: dict[str, Any] = {k: v for k, v in values.items() if v}
        if self.roles is not None:
            params["roles"] = list(self.roles)
            if self.merged_roles():
                params.update({f"role_{i}": r for i, r in enumerate(self.roles)})
        return params


#: a user of up to this many roles gets their deadline-ordered lists as one index walk per role
#: (each stopping at the limit), merged: an IN over several roles makes SQLite sort every task
#: of those roles to find the first hundred
MERGE_ROLES = 8


def _conditions(shape: tuple[Any, ...], per_role: bool = False) -> list[Any]:
    roles, instance_id, role, key, claimed_by, unclaimed, not_claimed_by, _merged = shape
    where: list[Any] = []
    if roles and not per_role:
        where.append(_T.c.role.in_(bindparam("roles", expanding=True)))
    if instance_id:
        where.append(_T.c.instance_id == bindparam("instance_id"))
    if role:
        where.append(_T.c.role == bindparam("role"))
    if key:
        where.append(_T.c.instance_id.in_(select(_I.c.id).join(_D, _D.c.id == _I.c.definition_id)
                                          .where(_D.c.key == bindparam("key"))))
    if claimed_by:
        where.append(_T.c.claimed_by == bindparam("claimed_by"))
    if unclaimed:
        where.append(_T.c.claimed_by.is_(None))
    if not_claimed_by:
        where.append(or_(_T.c.claimed_by.is_(None), _T.c.claimed_by != bindparam("not_claimed_by")))
    return where


#: the inbox's columns: datetimes as the driver gives them (SQLite: text), turned into the API's
#: strings without SQLAlchemy's per-value types.  The form and the runbook key are not read: they
#: are the definition's (immutable per version), from the engine's in-memory definition cache
_COLUMNS = ("id", "instance_id", "bpmn_id", "name", "role", "due_at", "ready_at", "claimed_by", "drill")
_RAW_TIMES = ("due_at", "ready_at")
_statements: dict[tuple[Any, ...], Any] = {}
_statements_lock = threading.Lock()


def _raw_time(column: Any, dialect: str) -> Any:
    """A time column as SQLite stores it (naive UTC ``YYYY-MM-DD HH:MM:SS.ffffff``), which
    ``_iso`` turns into the API's text by slicing: PostgreSQL formats it (one datetime object
    and its conversion less per value), SQLite hands its text over untouched."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24:MI:SS.US").label(column.name)
    return type_coerce(column, String).label(column.name)


def _instance_of(chosen: Any, dialect: str, limited: bool) -> tuple[Any, Any]:
    """The chosen tasks' instances (definition id, business key) and how to join them.  For a
    limited list on PostgreSQL, a LATERAL lookup fenced by OFFSET 0: one primary-key probe per
    chosen task, where a plain join lets the planner hash-join by scanning every instance
    (1.1 ms instead of 0.5 ms at 10,000 instances, and growing with them).  SQLite joins by
    probing anyway; an unlimited list is left to the planner."""
    if dialect != "postgresql" or not limited:
        return _I, _I.c.id == chosen.c.instance_id
    lookup = (select(_I.c.definition_id, _I.c.business_key).where(_I.c.id == chosen.c.instance_id)
              .offset(literal_column("0")).lateral("instance"))
    return lookup, true()


def _statement(shape: tuple[Any, ...], part: str, dialect: str) -> Any:
    """One prepared statement per filter shape, part and dialect (``due``: tasks with a deadline,
    earliest first, LIMIT :limit; ``undue``: the rest by readiness, LIMIT :limit; ``all``: no
    limit).  Tasks are chosen on human_tasks alone (its (role, due_at) and due_at indexes walk in
    deadline order and stop at the limit), then each looks up its instance (definition id,
    business key)."""
    cache_key = (shape, part, dialect)
    statement = _statements.get(cache_key)
    if statement is not None:
        return statement
    merged = shape[-1] if part != "all" else 0
    where = _conditions(shape, per_role=bool(merged))
    if part == "due":
        where.append(_T.c.due_at.is_not(None))
        order: tuple[Any, ...] = (_T.c.due_at, _T.c.ready_at, _T.c.id)
    elif part == "undue":
        where.append(_T.c.due_at.is_(None))
        order = (_T.c.ready_at, _T.c.id)
    else:
        order = (_T.c.due_at.is_(None), _T.c.due_at, _T.c.ready_at, _T.c.id)
    if merged:
        branches = [select(*(_T.c[c] for c in _COLUMNS)).where(_T.c.role == bindparam(f"role_{i}"), *where)
                    .order_by(*order).limit(bindparam("limit", type_=Integer)).subquery(f"role_{i}")
                    for i in range(merged)]
        union = union_all(*(select(branch) for branch in branches)).subquery("merged")
        chosen = (select(union).order_by(*(union.c[c.name] for c in order))
                  .limit(bindparam("limit", type_=Integer)).subquery("chosen"))
    else:
        chosen_query = select(*(_T.c[c] for c in _COLUMNS)).where(*where).order_by(*order)
        if part != "all":
            chosen_query = chosen_query.limit(bindparam("limit", type_=Integer))
        chosen = chosen_query.subquery("chosen")
    columns = [_raw_time(chosen.c[c], dialect) if c in _RAW_TIMES else chosen.c[c] for c in _COLUMNS]
    outer_order = [chosen.c.due_at.is_(None), chosen.c.due_at, chosen.c.ready_at, chosen.c.id]
    instance, on = _instance_of(chosen, dialect, limited=part != "all")
    statement = (select(*columns, instance.c.definition_id, instance.c.business_key)
                 .select_from(chosen.join(instance, on))
                 .order_by(*(outer_order if part == "all" else outer_order[1:] if part == "due"
                             else outer_order[2:])))
    with _statements_lock:
        _statements[cache_key] = statement
    return statement


def _rows(session: Session, filters: Filters, limit: int | None) -> list[Any]:
    """Open tasks matching ``filters``, earliest deadline first (none last), at most ``limit``:
    with a limit, tasks with and without a deadline are read by two index-ordered queries so
    the database never sorts the whole inbox."""
    connection = session.connection()
    shape, params, dialect = filters.shape(), filters.params(), connection.dialect.name
    if limit is None:
        return list(connection.execute(_statement(shape, "all", dialect), params).all())
    rows = list(connection.execute(_statement(shape, "due", dialect), {**params, "limit": limit}).all())
    if len(rows) < limit:
        rows += connection.execute(_statement(shape, "undue", dialect),
                                   {**params, "limit": limit - len(rows)}).all()
    return rows


class _Definitions:
    """Definition id -> (key, BPMN id -> form fields) for one listing, from the engine's
    definition cache (a definition version never changes)."""

    def __init__(self, session: Session, cache: DefinitionCache | None):
        self.session, self.cache = session, cache or DefinitionCache()
        self.seen: dict[int, DefinitionInfo] = {}

    def __call__(self, definition_id: int) -> DefinitionInfo:
        info = self.seen.get(definition_id)
        if info is None:
            info = self.seen[definition_id] = self.cache.get(self.session, definition_id)
        return info


def _form(info: DefinitionInfo, bpmn_id: str) -> list[Any]:
    """The task's form fields as the projection stored them (``meta["form"] or []``); shared
    lists, to be treated as read-only."""
    return (info.tasks.get(bpmn_id) or {}).get("form") or []


def _iso(value: Any) -> str | None:
    """A stored time as the API's ISO-8601 UTC text (``isoformat``), without a datetime when
    SQLite hands over its text form (naive UTC ``YYYY-MM-DD HH:MM:SS.ffffff``)."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " " and value[19] == ".":
            if value.endswith("000000"):
                return f"{value[:10]}T{value[11:19]}Z"
            return f"{value[:10]}T{value[11:]}Z"
        value = datetime.fromisoformat(value)
    offset = value.utcoffset()
    if offset is not None and not offset:      # PostgreSQL in UTC: no conversion needed
        return value.replace(tzinfo=None).isoformat() + "Z"
    return isoformat(value)


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def task_dicts(session: Session, filters: Filters, limit: int | None = None,
               definitions: DefinitionCache | None = None) -> list[dict[str, Any]]:
    """Open tasks as JSON-ready dicts: the task shape of ``TaskView.to_json`` plus ``key`` and
    ``business_key`` -- the inbox API's hot path (no view objects, no per-row type processing)."""
    info = _Definitions(session, definitions)
    out = []
    for r in _rows(session, filters, limit):
        definition = info(r[9])
        out.append({"task_id": r[0], "instance_id": r[1], "bpmn_id": r[2], "name": r[3], "role": r[4],
                    "due_at": _iso(r[5]), "form": _form(definition, r[2]), "ready_at": _iso(r[6]),
                    "claimed_by": r[7], "drill": bool(r[8]), "key": definition.key, "business_key": r[10]})
    return out


def select_tasks(session: Session, roles: Sequence[str] | None = None, instance_id: str | None = None,
                 role: str | None = None, key: str | None = None, claimed_by: str | None = None,
                 unclaimed: bool = False, not_claimed_by: str | None = None,
                 limit: int | None = None, definitions: DefinitionCache | None = None) -> list[TaskView]:
    """Open tasks matching the filters (``roles`` None: any role), earliest deadline first (no
    deadline last), at most ``limit``; each carries its runbook key and business key."""
    filters = Filters(roles, instance_id, role, key, claimed_by, unclaimed, not_claimed_by)
    info = _Definitions(session, definitions)
    out = []
    for r in _rows(session, filters, limit):
        definition = info(r[9])
        out.append(TaskView(r[0], r[1], r[2], r[3], r[4], _moment(r[5]), list(_form(definition, r[2])),
                            _moment(r[6]), r[7], bool(r[8]), definition.key, r[10]))
    return out


def count_tasks(session: Session, roles: Sequence[str] | None = None, instance_id: str | None = None,
                role: str | None = None, key: str | None = None, claimed_by: str | None = None,
                unclaimed: bool = False, not_claimed_by: str | None = None) -> int:
    """How many tasks ``select_tasks`` would return without a limit."""
    filters = Filters(roles, instance_id, role, key, claimed_by, unclaimed, not_claimed_by)
    cache_key = (filters.shape(), "count")
    statement = _statements.get(cache_key)
    if statement is None:
        statement = select(func.count()).select_from(_T).where(*_conditions(filters.shape()))
        with _statements_lock:
            _statements[cache_key] = statement
    return int(session.connection().execute(statement, filters.params()).scalar_one())


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
