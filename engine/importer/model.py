"""What an import produces: plain dataclasses the rest of the engine (and web) can rely on.

The importer never stores anything; ``engine.definitions`` versions and saves a ``Deployment``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FormField:
    """One field of a human task's form (Camunda formField, SpiffArena JSON schema property)."""

    id: str
    label: str
    type: str = "string"            # string | long | number | boolean | date | enum
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()   # enum: (value, label)
    default: Any = None
    #: validation beyond required (engine.forms.CONSTRAINTS): min, max, minlength, maxlength, readonly
    constraints: tuple[tuple[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        out = {
            "id": self.id, "label": self.label, "type": self.type, "required": self.required,
            "options": [{"value": v, "label": lbl} for v, lbl in self.options],
            "default": self.default,
        }
        if self.constraints:
            out["constraints"] = dict(self.constraints)
        return out


@dataclass
class TaskInfo:
    """What we know about one flow node, read from the XML (not from SpiffWorkflow)."""

    bpmn_id: str
    name: str
    kind: str                        # BPMN local tag: userTask, manualTask, task, serviceTask, ...
    process_id: str                  # the bpmn:process it belongs to
    lane: str | None = None
    role: str | None = None          # from candidate groups / assignment / lane
    form: list[FormField] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)  # target, rto, priority, duration...
    service: str | None = None       # service-registry name for service/send tasks
    documentation: str | None = None
    line: int | None = None

    @property
    def is_human(self) -> bool:
        return self.kind in ("userTask", "manualTask", "task")


@dataclass
class ProcessDraft:
    """One process found in a deployment, ready to be versioned and stored."""

    key: str                         # the bpmn:process id
    name: str
    file: str
    executable: bool                 # False: model-only (view and analyse, never start)
    tasks: dict[str, TaskInfo] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)   # process-level (incident_type…)
    spec: dict[str, Any] | None = None   # engine.spiff.serializer.spec_to_dict(...) when executable
    warnings: list[str] = field(default_factory=list)
    form_files: list[SourceFile] = field(default_factory=list)   # SpiffArena form schemas its tasks use

    def forms_sha256(self) -> str:
        """Content hash of the form files (empty when none): a changed form is a new version."""
        if not self.form_files:
            return ""
        return hashlib.sha256("".join(sorted(f.sha256 for f in self.form_files)).encode()).hexdigest()


@dataclass
class SourceFile:
    name: str
    content: bytes                   # the original bytes, as uploaded
    sha256: str
    dialect: str                     # spiffarena | camunda7 | camunda8 | bpmn.io | descriptive | dmn | json-schema
    kind: str = "bpmn"               # bpmn | dmn | form


@dataclass
class Deployment:
    """Everything one import of one or more files produced; all of it is stored, or none."""

    files: list[SourceFile]
    processes: list[ProcessDraft]
    warnings: list[str] = field(default_factory=list)
