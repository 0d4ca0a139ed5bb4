"""Turn specs and workflows into JSON-able dicts and back — SpiffWorkflow's serializer, our way.

A definition version stores its spec once (``spec_to_dict``); an instance stores only its
state (``workflow_state``), and ``restore_workflow`` joins the two.  Restored spec objects are
cached per definition version: they are read-only during execution, so instances share them
and a step does not pay for re-building the spec.
"""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState


class _SharedSpecWorkflowConverter(BpmnWorkflowConverter):
    """Stores a workflow without its spec; restores it onto an already-built spec."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], specs: tuple[Any, dict[str, Any]] | None = None) -> BpmnWorkflow:
        if specs is None:
            raise ValueError("a stored workflow needs its definition's specs to be restored")
        spec, subprocess_specs = specs
        dct = dict(dct)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dict(dct["subprocesses"]), workflow)
        workflow.bpmn_events = self.registry.restore(dct.get("bpmn_events", []))
        return workflow


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = _SharedSpecWorkflowConverter
_registry = BpmnWorkflowSerializer.configure(_config)

#: Bumped when the stored shape changes; saved with every instance state.
STATE_FORMAT = f"spiff-{BpmnWorkflowSerializer.VERSION if hasattr(BpmnWorkflowSerializer, 'VERSION') else '1.5'}"


def spec_to_dict(spec: Any, subprocess_specs: dict[str, Any]) -> dict[str, Any]:
    """The stored form of one process version: its spec and the specs it calls."""
    return {
        "spec": _registry.convert(spec),
        "subprocess_specs": {name: _registry.convert(s) for name, s in subprocess_specs.items()},
    }


class _SpecCache:
    """Restored (spec, subprocess_specs) per content fingerprint (file sha256 + process key),
    so two databases in one process can never share a wrong spec."""

    def __init__(self) -> None:
        self._items: dict[Any, tuple[Any, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, spec_dict: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        with self._lock:
            hit = self._items.get(key)
        if hit is not None:
            return hit
        built = (
            _registry.restore(spec_dict["spec"]),
            {name: _registry.restore(s) for name, s in spec_dict.get("subprocess_specs", {}).items()},
        )
        with self._lock:
            self._items[key] = built
        return built


_spec_cache = _SpecCache()


def new_workflow(cache_key: Any, spec_dict: dict[str, Any], script_engine: Any) -> BpmnWorkflow:
    """A fresh instance of a stored definition version."""
    spec, subs = _spec_cache.get(cache_key, spec_dict)
    return BpmnWorkflow(spec, subs, script_engine=script_engine)


def workflow_state(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The instance's state without the spec (that lives once, on the definition version)."""
    _registry._encoder_mode = True
    try:
        return _registry.convert(workflow)
    finally:
        _registry._encoder_mode = False


def restore_workflow(cache_key: Any, spec_dict: dict[str, Any], state: dict[str, Any],
                     script_engine: Any) -> BpmnWorkflow:
    """Rebuild a workflow from its definition version's (cached) spec and its stored state."""
    specs = _spec_cache.get(cache_key, spec_dict)
    workflow = _registry.restore(state, specs=specs)
    workflow.script_engine = script_engine
    return workflow



#: task states from which a task can still run (MAYBE … STARTED, and ERROR awaiting a retry)
_UNFINISHED = frozenset({TaskState.MAYBE, TaskState.LIKELY, TaskState.FUTURE, TaskState.WAITING,
                         TaskState.READY, TaskState.STARTED, TaskState.ERROR})


def reachable_steps(state: dict[str, Any], stored_spec: dict[str, Any]) -> set[str]:
    """The BPMN ids a stored workflow can still reach: its unfinished tasks and everything
    downstream of them in the spec (SpiffWorkflow predicts only a few steps ahead).  A branch
    not taken — a boundary timer cancelled because its task was done in time — is no longer
    unfinished, so the steps behind it are not in this set."""
    specs = [stored_spec.get("spec") or {}, *(stored_spec.get("subprocess_specs") or {}).values()]
    task_specs = {name: ts for spec in specs for name, ts in (spec.get("task_specs") or {}).items()}
    by_process = {spec.get("name"): list(spec.get("task_specs") or {}) for spec in specs}
    todo = [str(task.get("task_spec")) for scope in (state, *(state.get("subprocesses") or {}).values())
            for task in (scope.get("tasks") or {}).values() if task.get("state") in _UNFINISHED]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        task_spec = task_specs.get(name) or {}
        todo.extend(task_spec.get("outputs") or ())
        called = task_spec.get("spec")            # a subprocess or call activity: all its steps
        if isinstance(called, str):
            todo.extend(by_process.get(called, ()))
    return seen
