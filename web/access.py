"""What a principal may see and do with tasks and instances — built only on the Engine facade
(inbox, may_act) so the pages and the API apply exactly the same rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.api import Engine
from engine.errors import NotFound
from engine.views import InstanceView, TaskHistoryView, TaskView
from web.auth import Principal
from web.errors import Forbidden


@dataclass(frozen=True)
class InstanceLabel:
    key: str
    business_key: str | None
    status: str = ""          # unknown when the label comes from a task row (open tasks: running)


def _scope(who: Principal) -> tuple[str, ...] | None:
    """The roles whose tasks the principal sees (None: all, for admins and tokens) -- the roles
    read once for this request, so listing never looks the user up again."""
    return None if who.via == "token" or who.admin else who.roles


def _filters(instance_id: str | None, role: str | None, key: str | None, claimed_by: str | None,
             unclaimed: bool, not_claimed_by: str | None) -> dict[str, Any]:
    return {"instance_id": instance_id or None, "role": role or None, "key": key or None,
            "claimed_by": claimed_by or None, "unclaimed": unclaimed, "not_claimed_by": not_claimed_by or None}


def visible_tasks(eng: Engine, who: Principal, instance_id: str | None = None, role: str | None = None,
                  key: str | None = None, limit: int | None = None, claimed_by: str | None = None,
                  unclaimed: bool = False, not_claimed_by: str | None = None) -> list[TaskView]:
    """Tasks of the principal's roles (admins and tokens: all), earliest deadline first, at most
    ``limit`` — filtered, limited and labelled (key, business_key) by one database query."""
    filters = _filters(instance_id, role, key, claimed_by, unclaimed, not_claimed_by)
    return eng.tasks(**filters, limit=limit, roles=_scope(who))


def visible_task_json(eng: Engine, who: Principal, instance_id: str | None = None, role: str | None = None,
                      key: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """``visible_tasks`` in the API's JSON shape (``task_json``), straight from the query."""
    rows = eng.tasks_json(**_filters(instance_id, role, key, None, False, None), limit=limit, roles=_scope(who))
    for row in rows:
        row["claimed_by_me"] = row["claimed_by"] == who.username
    return rows


def visible_count(eng: Engine, who: Principal, instance_id: str | None = None, role: str | None = None,
                  key: str | None = None, claimed_by: str | None = None, unclaimed: bool = False,
                  not_claimed_by: str | None = None) -> int:
    """How many tasks ``visible_tasks`` would return without a limit (one COUNT query)."""
    filters = _filters(instance_id, role, key, claimed_by, unclaimed, not_claimed_by)
    return eng.tasks_count(**filters, roles=_scope(who))


def task_labels(tasks: list[TaskView]) -> dict[str, InstanceLabel]:
    """instance id -> label, from the key/business_key the inbox query joined into the tasks."""
    return {t.instance_id: InstanceLabel(t.key, t.business_key) for t in tasks if t.key is not None}


def may_act(eng: Engine, who: Principal, task: TaskView) -> bool:
    """Tokens act with admin rights; people by the engine's rule (role member or admin)."""
    if who.via == "token" or who.admin:
        return True
    return task.role is not None and task.role in who.roles and eng.may_act(who.username, task.task_id)


def task_for(eng: Engine, who: Principal, task_id: str) -> TaskView:
    """The open task, or NotFound; Forbidden (403) when it belongs to a role the principal lacks."""
    task = eng.task(task_id)
    if not may_act(eng, who, task):
        raise Forbidden(f"This task belongs to the role '{task.role}', which you do not hold.")
    return task


def history_for(eng: Engine, who: Principal, task_id: str) -> TaskHistoryView:
    """A task no longer open (who completed it, when), or NotFound for unknown ids; Forbidden
    (403) for a task of a role the principal lacks, as while it was open."""
    history = eng.task_history(task_id)
    if not (who.via == "token" or who.admin or (history.role is not None and history.role in who.roles)):
        raise Forbidden(f"This task belongs to the role '{history.role}', which you do not hold.")
    return history


def may_unclaim(who: Principal, task: TaskView) -> bool:
    return task.claimed_by in (None, who.username) or who.admin


def instance_labels(eng: Engine, instance_ids: set[str], max_lookups: int = 25) -> dict[str, InstanceLabel]:
    """instance id -> (definition key, business key, status), for the inbox columns.  Recent
    instances come from one query; a few older ones are looked up one by one."""
    if not instance_ids:
        return {}
    labels = {i.instance_id: InstanceLabel(i.key, i.business_key, i.status) for i in eng.instances()
              if i.instance_id in instance_ids}
    for missing in sorted(instance_ids - labels.keys())[:max_lookups]:
        try:
            view = eng.show(missing)
        except NotFound:
            continue
        labels[missing] = InstanceLabel(view.key, view.business_key, view.status)
    return labels


def task_json(task: TaskView, labels: dict[str, InstanceLabel], who: Principal) -> dict[str, Any]:
    """A task in the CLI's JSON shape, plus where it comes from and what the caller may do."""
    out = task.to_json()
    label = labels.get(task.instance_id)
    out["key"] = label.key if label else None
    out["business_key"] = label.business_key if label else None
    out["claimed_by_me"] = task.claimed_by == who.username
    return out


def notifications(view: InstanceView) -> list[Any]:
    kinds = ("notification_queued", "notification_recorded", "notification_sent", "notification_attempt_failed")
    return [e for e in view.timeline if e.kind in kinds]
