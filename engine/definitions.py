"""Versioned definitions: store a ``Deployment`` all-or-nothing, one version per changed
process key; identical content (sha256) is not re-versioned."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.importer.model import Deployment, ProcessDraft, TaskInfo
from engine.services import ServiceRegistry
from engine.store.models import DefinitionRow, DeploymentRow, SourceFileRow
from engine.views import DefinitionView, ImportedProcess


def tasks_to_json(tasks: dict[str, TaskInfo]) -> dict[str, Any]:
    out = {}
    for bpmn_id, info in tasks.items():
        item = dataclasses.asdict(info)
        item["form"] = [f.to_json() for f in info.form]
        out[bpmn_id] = item
    return out


def service_warnings(draft: ProcessDraft, registry: ServiceRegistry) -> list[str]:
    """Name every task whose service nobody registered (it will raise an incident if reached)."""
    if not draft.executable:
        return []
    return [f"task '{t.bpmn_id}' ({t.name}) calls service '{t.service}', which is not registered: "
            f"reaching it raises an incident until it is bound"
            for t in draft.tasks.values() if t.service and t.service not in registry]


def store_deployment(session: Session, deployment: Deployment, now: datetime,
                     registry: ServiceRegistry) -> list[ImportedProcess]:
    """Add the deployment to the session (the caller commits or rolls back as one)."""
    dep = DeploymentRow(created_at=now)
    session.add(dep)
    session.flush()
    file_rows: dict[str, SourceFileRow] = {}
    for source in deployment.files:
        row = SourceFileRow(deployment_id=dep.id, name=source.name, sha256=source.sha256,
                            dialect=source.dialect, kind=source.kind, content=source.content)
        session.add(row)
        file_rows[source.name] = row
    session.flush()
    results = []
    for draft in deployment.processes:
        source_row = file_rows[draft.file]
        forms = draft.forms_sha256()          # its SpiffArena form files: a changed form is a new version
        fingerprint = f"{source_row.sha256}{'+' + forms if forms else ''}:{draft.key}"
        latest = session.scalars(select(DefinitionRow).where(DefinitionRow.key == draft.key)
                                 .order_by(DefinitionRow.version.desc()).limit(1)).first()
        warnings = list(draft.warnings) + service_warnings(draft, registry)
        if latest is not None and latest.sha256 == fingerprint:
            results.append(ImportedProcess(draft.file, draft.key, latest.version, latest.executable,
                                           False, warnings))
            continue
        version = (latest.version + 1) if latest is not None else 1
        session.add(DefinitionRow(
            key=draft.key, version=version, name=draft.name or draft.key,
            executable=draft.executable, sha256=fingerprint, source_file_id=source_row.id,
            deployment_id=dep.id, spec=draft.spec, tasks=tasks_to_json(draft.tasks),
            properties=dict(draft.properties), warnings=warnings, created_at=now))
        results.append(ImportedProcess(draft.file, draft.key, version, draft.executable, True, warnings))
    session.flush()
    return results


def latest_definition(session: Session, key: str) -> DefinitionRow | None:
    return session.scalars(select(DefinitionRow).where(DefinitionRow.key == key)
                           .order_by(DefinitionRow.version.desc()).limit(1)).first()


def latest_definition_id(session: Session, key: str) -> int | None:
    return session.scalars(select(DefinitionRow.id).where(DefinitionRow.key == key)
                           .order_by(DefinitionRow.version.desc()).limit(1)).first()


def known_keys(session: Session) -> set[str]:
    return set(session.scalars(select(DefinitionRow.key).distinct()))


def list_definitions(session: Session, all_versions: bool = False) -> list[DefinitionView]:
    query = select(DefinitionRow)
    if not all_versions:
        newest = (select(DefinitionRow.key, func.max(DefinitionRow.version).label("v"))
                  .group_by(DefinitionRow.key).subquery())
        query = query.join(newest, (DefinitionRow.key == newest.c.key)
                           & (DefinitionRow.version == newest.c.v))
    rows = session.scalars(query.order_by(DefinitionRow.key, DefinitionRow.version))
    return [to_view(r) for r in rows]


def to_view(row: DefinitionRow) -> DefinitionView:
    return DefinitionView(row.key, row.version, row.name, row.executable, row.sha256.split(":")[0].split("+")[0],
                          row.created_at, list(row.warnings or []), dict(row.properties or {}))


def get_definition(session: Session, key: str, version: int | None = None) -> DefinitionRow:
    query = select(DefinitionRow).where(DefinitionRow.key == key)
    if version is not None:
        query = query.where(DefinitionRow.version == version)
    row = session.scalars(query.order_by(DefinitionRow.version.desc()).limit(1)).first()
    if row is None:
        raise NotFound(f"no definition '{key}'" + (f" version {version}" if version else "")
                       + " (see `contiflow definitions`)")
    return row


def source_of(session: Session, key: str, version: int | None = None) -> tuple[str, bytes]:
    row = get_definition(session, key, version)
    source = session.get(SourceFileRow, row.source_file_id)
    assert source is not None
    return source.name, source.content
