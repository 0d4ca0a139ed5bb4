"""Lift SpiffWorkflow's silent limits on long processes.

SpiffWorkflow predicts, iterates and copies the task tree recursively, one level per task, so
a chain of 3,000 tasks needs a recursion limit far above Python's 1,000.  From Python 3.11 a
Python-to-Python call uses no C stack, so a higher limit is safe; the importer also caps
models at ``MAX_FLOW_NODES``.

``BpmnTaskIterator`` stops descending at depth 1000, so a chain of more than 1000 tasks (or a
loop that ran 1000 times) stops finding READY tasks and the instance stalls without an error.
``tests/test_spiff_contracts.py`` fails if an upgrade changes the signature this relies on.
"""

from __future__ import annotations

import inspect
import sys

from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskIterator

UNLIMITED_DEPTH = 10**9
RECURSION_LIMIT = 200_000


def raise_recursion_limit() -> None:
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)


def lift_iterator_depth_limit() -> None:
    for cls in (TaskIterator, BpmnTaskIterator):
        init = cls.__init__
        names = [name for name, param in inspect.signature(init).parameters.items()
                 if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD)]
        defaults = list(init.__defaults__ or ())
        first_default = len(names) - len(defaults)
        position = names.index("max_depth") - first_default
        defaults[position] = UNLIMITED_DEPTH
        init.__defaults__ = tuple(defaults)


lift_iterator_depth_limit()
raise_recursion_limit()


# -- O(n) task look-ups ------------------------------------------------------------------
# SpiffWorkflow finds READY and WAITING tasks by walking the whole task tree after every
# step, which makes a run of n steps cost O(n^2) (a 3,000-task chain: minutes).  For the
# unfinished states those walks look for, a scan of the workflow's task dictionaries finds
# the same tasks (the contract test compares both on real models).

from SpiffWorkflow.bpmn.util.subworkflow import BpmnBaseWorkflow  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from SpiffWorkflow.workflow import Workflow  # noqa: E402

_tree_get_tasks = BpmnBaseWorkflow.get_tasks


def _tasks_in_scope(workflow):
    """This workflow's tasks and those of the subprocesses it started, recursively."""
    yield from workflow.tasks.values()
    own = workflow.tasks
    for task_id, subprocess in list(workflow.top_workflow.subprocesses.items()):
        if task_id in own:
            yield from _tasks_in_scope(subprocess)


def _fast_get_tasks(self, first_task=None, **kwargs):
    state = kwargs.get("state")
    if first_task is None and set(kwargs) == {"state"} and state and not state & TaskState.FINISHED_MASK:
        return [task for task in _tasks_in_scope(self) if task.state & state]
    return _tree_get_tasks(self, first_task, **kwargs)


def _fast_update_waiting_tasks(self):
    for task in [t for t in self.tasks.values() if t.state == TaskState.WAITING]:
        task.task_spec._update(task)


def use_flat_task_lookups() -> None:
    BpmnBaseWorkflow.get_tasks = _fast_get_tasks
    Workflow.update_waiting_tasks = _fast_update_waiting_tasks


def tree_get_tasks(workflow, **kwargs):
    """SpiffWorkflow's own tree walk (for the contract test)."""
    return _tree_get_tasks(workflow, None, **kwargs)


use_flat_task_lookups()
